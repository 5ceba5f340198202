"""A fork server per app interpreter: runner children forked from a process that has imported alembic,
SQLAlchemy and the driver once, instead of an interpreter started (and those imports done) per child.

    proc = fork_child(python, env)          # a ForkedProcess, or None: then spawn the child as before

A child's start costs about 0.3 s of CPU in a fresh interpreter, and a fleet release starts one per database
and phase; a fork costs a few milliseconds. The server (`_child.py --zygote FD`) starts in a session of its own
with the spawn-time settings of the runner that first needs it (PYTHON*, LD_*, HOME: they act when an
interpreter starts, so runners that differ in them get servers of their own). A forked child is what a spare
child is (migrator.runner._Spare): alembic imported, no project yet; the runner then sends its "setup"
(environment and folder). The server reaps its children and reports their exit codes.

Linux only (fork after imports, and file descriptors passed over a UNIX socket); MIGRATOR_FORK_SERVER=0 turns
it off. A relative PYTHONPATH entry (resolved against the folder an interpreter starts in) means no server.
Servers end with migrator: at exit, or when their socket closes because migrator died.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping
from pathlib import Path

SWITCH = "MIGRATOR_FORK_SERVER"
SPAWN_ONLY = ("PYTHON", "LD_", "DYLD_")  # read when an interpreter starts (HOME too: the user site-packages)
PRELOAD = "MIGRATOR_RUNNER_PRELOAD"  # _child.py: the URL form whose driver a warm child imports ahead
START_TIMEOUT = 120.0


def enabled() -> bool:
    return (sys.platform.startswith("linux") and hasattr(socket, "send_fds")
            and os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off"))


def _spawn_only(name: str) -> bool:
    return name.startswith(SPAWN_ONLY) or name == "HOME"


def spawn_settings(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The variables of `env` that act only when an interpreter starts."""
    return tuple(sorted((k, v) for k, v in env.items() if _spawn_only(k)))


class ForkedProcess:
    """A runner child forked by a server: the parts of subprocess.Popen that ProjectRunner and kill_group use.
    Its pipes work at once (a request written now is read once the child is forked); `pid` waits for the fork."""

    def __init__(self, server: "ForkServer", stdin, stdout, stderr) -> None:
        self.server = server
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.returncode: int | None = None
        self._pid: int | None = None
        self._forked = threading.Event()

    def _set_pid(self, pid: int | None) -> None:
        self._pid = pid
        self._forked.set()

    @property
    def pid(self) -> int | None:
        """None when the server ended before it forked this child."""
        self._forked.wait(START_TIMEOUT)
        return self._pid

    def poll(self) -> int | None:
        if self.returncode is None and self.pid is not None:
            self.returncode = self.server.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None and self.pid is not None:
            self.returncode = self.server.wait_for(self.pid, timeout)
        return self.returncode


class ForkServer:
    def __init__(self, python: str, env: Mapping[str, str], child_script: Path) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                [python, str(child_script), "--zygote", str(theirs.fileno())], pass_fds=(theirs.fileno(),),
                cwd="/", env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            mine.close()
            raise
        finally:
            theirs.close()
        self.sock = mine
        self._requests = threading.Lock()  # requests are sent in the order of _pending: answers come in order
        self._pending: deque[ForkedProcess] = deque()
        self._exits: dict[int, int] = {}
        self._changed = threading.Condition()
        self.alive = True
        threading.Thread(target=self._read, name="migrator-fork-server", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.sock.makefile("rb"):
                kind, _, rest = line.decode("ascii", "replace").strip().partition(" ")
                if kind == "pid":
                    with self._requests:
                        forked = self._pending.popleft()
                    forked._set_pid(int(rest))
                elif kind == "exit":
                    pid, _, code = rest.partition(" ")
                    with self._changed:
                        self._exits[int(pid)] = int(code)
                        self._changed.notify_all()
        except (OSError, ValueError):
            pass
        with self._changed:
            self.alive = False
            self._changed.notify_all()
        with self._requests:
            pending, self._pending = list(self._pending), deque()
        for forked in pending:
            forked._set_pid(None)

    def fork(self) -> ForkedProcess | None:
        """A new child waiting for its setup (forked once the server is ready), or None when the server is gone."""
        (in_r, in_w), (out_r, out_w), (err_r, err_w) = os.pipe(), os.pipe(), os.pipe()
        theirs = (in_r, out_w, err_w)
        forked = ForkedProcess(self, os.fdopen(in_w, "wb"), os.fdopen(out_r, "rb"), os.fdopen(err_r, "rb"))
        try:
            with self._requests:
                if not self.alive:
                    raise OSError("the fork server has ended")
                socket.send_fds(self.sock, [b"fork\n"], list(theirs))
                self._pending.append(forked)
        except OSError:
            for stream in (forked.stdin, forked.stdout, forked.stderr):
                stream.close()
            return None
        finally:
            for fd in theirs:  # the server has its own copies now
                os.close(fd)
        return forked

    def exit_code(self, pid: int) -> int | None:
        with self._changed:
            return self._exits.pop(pid, None)

    def wait_for(self, pid: int, timeout: float | None) -> int | None:
        """The child's exit code; None when the server ended first (its children end with it)."""
        with self._changed:
            if not self._changed.wait_for(lambda: pid in self._exits or not self.alive, timeout):
                raise subprocess.TimeoutExpired(f"forked child {pid}", timeout or 0)
            return self._exits.pop(pid, None)

    def close(self) -> None:
        self.alive = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - it exits on the socket's end
            self.proc.kill()
            self.proc.wait()


_servers: dict[tuple, ForkServer] = {}
_lock = threading.Lock()


def _server(python: str, env: Mapping[str, str], base: Mapping[str, str], child_script: Path,
            preload: str | None = None) -> ForkServer | None:
    """The server for `env`'s spawn settings, started with `base` (migrator's environment without its private
    variables: never an app's settings or URL, which each child gets in its setup) and those settings."""
    if not enabled():
        return None
    settings = spawn_settings(env)
    pythonpath = dict(settings).get("PYTHONPATH", "")
    if any(entry and not os.path.isabs(entry) for entry in pythonpath.split(os.pathsep)):
        return None
    key = (python, settings)
    with _lock:
        server = _servers.pop(key, None)
        if server is not None and server.alive:
            _servers[key] = server
            return server
        if server is not None:  # it ended (killed, say): reap it before starting another
            server.close()
        spawn_env = {**{k: v for k, v in base.items() if not _spawn_only(k)}, **dict(settings)}
        if preload:
            spawn_env[PRELOAD] = f"{preload}://"
        try:
            server = ForkServer(python, spawn_env, child_script)
        except OSError:
            return None  # the runner spawns its child and reports a missing interpreter then
        _servers[key] = server
        return server


def warm(python: str, env: Mapping[str, str], base: Mapping[str, str], child_script: Path,
         url_form: str | None = None) -> bool:
    """Start the server for these settings ahead of its first fork; False when there will be none."""
    return _server(python, env, base, child_script, url_form) is not None


def fork_child(python: str, env: Mapping[str, str], base: Mapping[str, str], child_script: Path
               ) -> ForkedProcess | None:
    server = _server(python, env, base, child_script)
    return server.fork() if server is not None else None


@atexit.register
def close_all() -> None:
    with _lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.close()
