"""A throwaway PostgreSQL cluster: initdb into a temp dir, postgres on a free port, all removed on stop.

PostgreSQL refuses to run as root. When we are root, initdb and postgres run as an unprivileged user
that already exists (MIGRATOR_PG_USER, else "postgres", else "nobody"), owning only the temp dir.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from . import _procs, _signals
from ._server import Server, log
from .errors import ProvisionError

_SOCKET_MAX = 100  # sun_path is 104-108 bytes; ".s.PGSQL.65535" included
# a throwaway cluster: no durability, and no autovacuum worker holding a template while it is cloned
_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "autovacuum=off", "logging_collector=off")


def run_as(provider: str | None = None) -> tuple[str, int, int] | None:
    """(name, uid, gid) of the user to run PostgreSQL as when we are root, else None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    wanted = os.environ.get("MIGRATOR_PG_USER")
    for name in [wanted] if wanted else ["postgres", "nobody"]:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return name, entry.pw_uid, entry.pw_gid
    raise ProvisionError(f"running as root and no unprivileged user {wanted or 'postgres/nobody'} exists to run PostgreSQL",
                         provider)


def _traversable(path: Path, uid: int, gid: int) -> bool:
    for part in [path, *path.parents]:
        st = part.stat()
        bit = 0o100 if st.st_uid == uid else 0o010 if st.st_gid == gid else 0o001
        if not st.st_mode & bit:
            return False
    return True


def _temp_base(user) -> str:
    base = Path(tempfile.gettempdir())
    if len(str(base)) > _SOCKET_MAX - 40 or (user and not _traversable(base, user[1], user[2])):
        base = Path("/tmp")
    return str(base)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def _die_with_parent():
    """preexec_fn: the postmaster gets SIGQUIT (immediate shutdown) if we die without cleaning up (Linux)."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    import ctypes

    prctl, parent = ctypes.CDLL(None, use_errno=True).prctl, os.getpid()

    def set_pdeathsig():
        prctl(1, int(signal.SIGQUIT))  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)

    return set_pdeathsig


class Cluster:
    """The files and the postmaster process of one throwaway cluster."""

    shutdown_timeout = 10.0  # seconds the postmaster gets to exit before it and its children are killed

    def __init__(self, provider: str, bindir: Path):
        self.provider, self.bindir = provider, Path(bindir)
        for exe in ("initdb", "postgres"):
            if not (self.bindir / exe).is_file():
                raise ProvisionError(f"no {exe} in {self.bindir}", provider)
        self.user = run_as(provider)
        self.tmp: Path | None = None
        self.proc: subprocess.Popen | None = None  # the postmaster
        self.initdb: subprocess.Popen | None = None
        self.port = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        self.env.update(LC_ALL="C", LANG="C")

    def _spawn(self, slot: str, args, log: Path, **kw) -> subprocess.Popen:
        """Start a child into self.<slot>: stored before any signal can interrupt us, so stop() finds it."""
        extra: dict[str, Any] = dict(user=self.user[1], group=self.user[2], extra_groups=[]) if self.user else {}
        with open(log, "ab") as out, _signals.deferred():
            try:
                setattr(self, slot, subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                                     env=self.env, cwd=self.tmp, **extra, **kw))
            except OSError as exc:
                who = f" as user {self.user[0]!r} (PostgreSQL refuses root; that user needs read access to the" \
                      f" binaries, or set MIGRATOR_PG_USER)" if self.user else ""
                raise ProvisionError(f"cannot run {args[0]}{who}: {exc.strerror}", self.provider) from None
        return getattr(self, slot)

    def _kill_initdb(self) -> None:
        proc, self.initdb = self.initdb, None
        if proc is not None and proc.poll() is None:  # not reaped yet, so its process group id is still ours
            with _signals.deferred():
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def init(self) -> None:
        with _signals.deferred():
            self.tmp = tmp = Path(tempfile.mkdtemp(prefix="migrator-pg-", dir=_temp_base(self.user)))
        if self.user:
            os.chown(tmp, self.user[1], self.user[2])
        args = [str(self.bindir / "initdb"), "-D", str(tmp / "data"), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--locale=C", "--no-sync"]
        # its own process group: initdb runs `postgres --single` children that must die with it
        proc = self._spawn("initdb", args, tmp / "initdb.log", start_new_session=True)
        try:
            if proc.wait(timeout=120) != 0:
                raise ProvisionError(f"initdb failed: {_tail(tmp / 'initdb.log')}", self.provider)
        finally:
            self._kill_initdb()

    def launch(self, timeout: float = 30.0) -> None:
        tmp = self.tmp
        assert tmp is not None, "launch() before init()"
        for attempt in range(5):
            self.port = _free_port()
            log = tmp / "postgres.log"
            args = [str(self.bindir / "postgres"), "-D", str(tmp / "data"), "-p", str(self.port),
                    "-h", "127.0.0.1", "-k", str(tmp)]
            for setting in _SETTINGS:
                args += ["-c", setting]
            proc = self._spawn("proc", args, log, start_new_session=True, preexec_fn=_die_with_parent())
            if self._wait_ready(proc, tmp, timeout):
                return
            code, tail = proc.wait(), _tail(log)
            self.proc = None
            if "could not bind" not in tail and "already in use" not in tail or attempt == 4:
                raise ProvisionError(f"postgres exited with code {code}: {tail}", self.provider)

    def _wait_ready(self, proc: subprocess.Popen, tmp: Path, timeout: float) -> bool:
        pidfile, deadline = tmp / "data" / "postmaster.pid", time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                lines = pidfile.read_text().splitlines()
            except OSError:
                lines = []
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return True
            time.sleep(0.01)
        raise ProvisionError(f"postgres not ready after {timeout:.0f}s: {_tail(tmp / 'postgres.log')}", self.provider)

    def stop(self) -> None:
        """Immediate shutdown, else SIGKILL of the postmaster and its children; then remove the temp dir."""
        with _signals.deferred():
            self._kill_initdb()
            proc, self.proc = self.proc, None
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, signal.SIGQUIT)  # immediate shutdown: the data is thrown away anyway
                try:
                    proc.wait(self.shutdown_timeout)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGSTOP)  # cannot reap children now: their pids stay theirs
                    children = _procs.children(proc.pid)
                    proc.kill()
                    for child in children:
                        _procs.signal_if_alive(child, signal.SIGKILL)
                    proc.wait()
            tmp, self.tmp = self.tmp, None
            if tmp is not None:
                for _ in range(5):
                    shutil.rmtree(tmp, ignore_errors=True)
                    if not tmp.exists():
                        break
                    time.sleep(0.1)  # a process of ours still closing files
                else:
                    raise ProvisionError(f"could not remove {tmp}", self.provider)


class ClusterServer(Server):
    owned = True

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        super().__init__(f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres", cluster.provider)

    @property
    def pid(self) -> int | None:
        return self.cluster.proc.pid if self.cluster.proc else None

    @property
    def tmpdir(self) -> Path | None:
        return self.cluster.tmp

    def _shutdown(self) -> None:
        self.cluster.stop()


def start_cluster(provider: str, bindir: Path, timeout: float = 30.0) -> ClusterServer:
    """initdb + postgres from `bindir`; everything is undone if anything fails or a signal arrives."""
    started = time.monotonic()
    guarded = _signals.acquire()
    cluster, server = None, None
    try:
        cluster = Cluster(provider, bindir)
        cluster.init()
        cluster.launch(timeout)
        server = ClusterServer(cluster)
        server.connect()
    except BaseException:
        try:
            if server is not None:
                server.stop()
            elif cluster is not None:
                cluster.stop()
        except ProvisionError as exc:  # keep the error that stopped the start
            log.warning("%s", exc)
        raise
    finally:
        if guarded:
            _signals.release()
    server.startup_seconds = time.monotonic() - started
    return server
