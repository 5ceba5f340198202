"""A real nginx in front of two small HTTP apps (blue and green), all on 127.0.0.1, for the nginx router's tests and
bench/switch.py.

    with NginxBed(tmp_path) as bed:          # starts the apps and nginx; stops everything on exit, also on failure
        bed.get()                            # -> Answer(status=200, color="blue", ...) through nginx
        hook = bed.router()                  # NginxRouter for this bed ([tool.migrator.hook] table: bed.config())
        bed.apps["green"].mode = "error"     # the app answers 503 without a colour; "wrong": the other colour
        bed.apps["green"].stop()             # really down: nothing listens, open connections are cut
        bed.stop_nginx(); bed.start_nginx()  # nginx not running / running again

nginx runs as a real daemon (daemon on, master_process on, worker_processes 1) with its prefix, pid file, temp dirs
and error log in the bed's directory; the upstream keeps idle connections to the apps (keepalive). The include file
that migrator owns is `conf/upstream.conf`: server lines inside `upstream app { ... }` (mode "servers"), or the whole
block (mode "block"). `conf/extra.conf` is included at http level so a test can break nginx.conf.

Stopping: `nginx -s quit`, then SIGKILL to the master's process group if it lingers (nginx's daemon is the leader
of its own session, so the group is nginx's master and workers only). The apps are ThreadingHTTPServers in threads
of this process, or (processes=True, for the benchmark) `python tests/nginx_bed.py app COLOR PORT` subprocesses.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"
PR_SET_CHILD_SUBREAPER = 36
COLORS = ("blue", "green")


def nginx_binary() -> str | None:
    """The nginx executable, or None when nginx is not installed."""
    found = shutil.which("nginx")
    if found:
        return found
    for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"):
        if os.access(path, os.X_OK):
            return path
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- the apps ------------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so nginx's upstream keepalive really reuses connections
    server_version = "bed-app"
    wbufsize = 64 * 1024  # headers and body leave in one write (two small writes + Nagle = 40 ms stalls)
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.app._opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.app._closed(self.connection)

    def do_GET(self):  # noqa: N802
        app = self.server.app
        mode = app._count()
        if app.delay:
            time.sleep(app.delay)
        if mode == "error":
            self._send(503, b"unavailable\n", None)
            return
        color = app.color if mode != "wrong" else ("green" if app.color == "blue" else "blue")
        self._send(200, (color + "\n").encode(), color)

    def _send(self, status: int, body: bytes, color: str | None):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if color:
            self.send_header("X-Color", color)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        """A client that hung up (nginx closing an upstream connection, a stopped bed) is no error; others are."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class App:
    """One colour's HTTP app in threads: GET anything -> 200, body "<colour>\\n", header X-Color: <colour>.

    mode: "ok"; "wrong" (answers the other colour); "error" (503, no colour). fail_after=N: "error" from the
    (N+1)th request on. stop() takes it down for real (the port refuses, open connections are cut)."""

    def __init__(self, color: str, port: int | None = None, delay: float = 0.0):
        self.color, self.port, self.delay = color, port or free_port(), delay
        self.mode = "ok"
        self.fail_after: int | None = None
        self.requests = 0
        self._lock = threading.Lock()
        self._connections: set = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> "App":
        if self._server is None:
            self._server = _Server((HOST, self.port), _Handler)
            self._server.app = self
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"bed-app-{self.color}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)

    def _count(self) -> str:
        with self._lock:
            self.requests += 1
            if self.fail_after is not None and self.requests > self.fail_after:
                return "error"
            return self.mode

    def _opened(self, conn) -> None:
        with self._lock:
            self._connections.add(conn)

    def _closed(self, conn) -> None:
        with self._lock:
            self._connections.discard(conn)


class ProcessApp:
    """The same app in a subprocess of its own (for the benchmark: client threads and servers do not share a GIL)."""

    def __init__(self, color: str, port: int | None = None, delay: float = 0.0):
        self.color, self.port, self.delay = color, port or free_port(), delay
        self._proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "ProcessApp":
        if self._proc is None:
            self._proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "app", self.color,
                                           str(self.port), "--delay", str(self.delay)],
                                          stdin=subprocess.DEVNULL, start_new_session=True)
            _wait_listening(self.port, 10, lambda: self._proc.poll() is None, f"{self.color} app")
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# --- nginx ---------------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int | None
    color: str | None
    error: str | None = None


class NginxBed:
    """nginx on 127.0.0.1:<port> with its config under `root`, in front of the blue and green apps."""

    def __init__(self, root: Path, *, mode: str = "servers", processes: bool = False, delay: float = 0.0,
                 keepalive: int = 16):
        if mode not in ("servers", "block"):
            raise ValueError("mode is 'servers' or 'block'")
        self.nginx = nginx_binary()
        if self.nginx is None:
            raise RuntimeError("nginx is not installed")
        self.root = Path(root)
        self.mode, self.keepalive = mode, keepalive
        self.prefix = self.root / "nginx"
        self.conf = self.prefix / "conf" / "nginx.conf"
        self.upstream_file = self.prefix / "conf" / "upstream.conf"
        self.extra_file = self.prefix / "conf" / "extra.conf"
        self.pid_file = self.prefix / "logs" / "nginx.pid"
        self.error_log = self.prefix / "logs" / "error.log"
        cls = ProcessApp if processes else App
        self.apps = {c: cls(c, delay=delay) for c in COLORS}
        self.port = 0
        self.master_pid: int | None = None

    # -- configuration ------------------------------------------------------------------------------------------
    @property
    def nginx_args(self) -> list[str]:
        return ["-c", str(self.conf), "-p", str(self.prefix), "-e", str(self.error_log)]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def health_url(self) -> str:
        return f"{self.url}/health"

    def config(self, **overrides) -> dict:
        """The [tool.migrator.hook] table of an NginxRouter for this bed (short timeouts for tests)."""
        table = {"kind": "nginx", "upstream_file": str(self.upstream_file),
                 "targets": {c: app.address for c, app in self.apps.items()},
                 "health_url": self.health_url, "nginx": self.nginx, "nginx_args": self.nginx_args,
                 "probe_timeout": "1s", "confirm_timeout": "3s", "timeout": "10s", "deadline": "10s",
                 "poll_interval": "20ms"}
        if self.mode == "block":
            table.update(upstream="app", upstream_directives=[f"keepalive {self.keepalive}"])
        table.update(overrides)
        return table

    def config_toml(self, **overrides) -> str:
        """config() as a [tool.migrator.hook] TOML section."""
        import json

        lines = ["[tool.migrator.hook]"]
        for key, value in self.config(**overrides).items():
            if isinstance(value, dict):
                value = "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items()) + " }"
            else:
                value = json.dumps(value)
            lines.append(f"{key} = {value}")
        return "\n".join(lines) + "\n"

    def router(self, **overrides):
        from migrator.routers import get_hook

        return get_hook(self.config(**overrides), project_dir=self.root)

    def write_conf(self) -> None:
        for sub in ("conf", "logs", "tmp"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""
        tmp = self.prefix / "tmp"
        if self.mode == "servers":
            upstream = (f"    upstream app {{\n        include {self.upstream_file};\n"
                        f"        keepalive {self.keepalive};\n    }}\n")
        else:
            upstream = f"    include {self.upstream_file};\n"
        self.conf.write_text(
            f"{user}worker_processes 1;\ndaemon on;\nmaster_process on;\npid {self.pid_file};\n"
            f"error_log {self.error_log} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    access_log off;\n"
            f"    client_body_temp_path {tmp}/body;\n    proxy_temp_path {tmp}/proxy;\n"
            f"    fastcgi_temp_path {tmp}/fastcgi;\n    uwsgi_temp_path {tmp}/uwsgi;\n    scgi_temp_path {tmp}/scgi;\n"
            f"    include {self.extra_file};\n"
            f"{upstream}"
            "    server {\n"
            f"        listen {HOST}:{self.port};\n"
            "        keepalive_requests 100000;\n"
            "        location / {\n"
            "            proxy_pass http://app;\n"
            "            proxy_http_version 1.1;\n"
            "            proxy_set_header Connection \"\";\n"
            "            proxy_connect_timeout 2s;\n"
            "            proxy_read_timeout 10s;\n"
            "        }\n"
            "    }\n"
            "}\n")
        if not self.extra_file.exists():
            self.extra_file.write_text("# tests put directives here (or break them)\n")
        if not self.upstream_file.exists():  # the operator's first file: blue, written by hand
            blue = self.apps["blue"].address
            if self.mode == "servers":
                self.upstream_file.write_text(f"server {blue};\n")
            else:
                self.upstream_file.write_text(
                    f"upstream app {{\n    server {blue};\n    keepalive {self.keepalive};\n}}\n")

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> "NginxBed":
        try:
            for app in self.apps.values():
                app.start()
            self.start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def start_nginx(self) -> None:
        """Start the daemon (a new free port unless one is set); wait until it answers. Retries a lost port race."""
        last = ""
        for attempt in range(3):
            if not self.port or attempt:
                self.port = free_port()
            self.write_conf()
            self.pid_file.unlink(missing_ok=True)
            with _subreaper():  # the daemon is re-parented to us, so stop_nginx() can reap it (no zombie)
                proc = subprocess.run([self.nginx, *self.nginx_args], capture_output=True, timeout=30,
                                      stdin=subprocess.DEVNULL)
            last = (proc.stderr + proc.stdout).decode("utf-8", "replace").strip()
            if proc.returncode == 0:
                self.master_pid = self._read_pid(5)
                _wait_listening(self.port, 5, lambda: _alive(self.master_pid), "nginx")
                return
            if "Address already in use" not in last:
                break
        raise RuntimeError(f"nginx did not start: {last}\n{self.error_log_text()[-2000:]}")

    def stop_nginx(self) -> None:
        """`nginx -s quit` (graceful), then SIGKILL to the master's process group if it is still there after 5 s."""
        pid, self.master_pid = self.master_pid, None
        if pid is None:
            return
        if _alive(pid):
            try:
                subprocess.run([self.nginx, *self.nginx_args, "-s", "quit"], capture_output=True, timeout=10,
                               stdin=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired):
                pass
            end = time.monotonic() + 5
            while _alive(pid) and time.monotonic() < end:
                time.sleep(0.02)
        _kill_group(pid)
        _reap(pid)
        self.pid_file.unlink(missing_ok=True)

    def stop(self) -> None:
        try:
            self.stop_nginx()
        finally:
            for app in self.apps.values():
                try:
                    app.stop()
                except Exception:  # noqa: BLE001 - stop the other one too
                    pass

    def __enter__(self) -> "NginxBed":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- requests -----------------------------------------------------------------------------------------------
    def get(self, path: str = "/", timeout: float = 3.0) -> Answer:
        """One request through nginx on a new connection: the status and the colour that answered."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            response = conn.getresponse()
            response.read()
            return Answer(response.status, response.getheader("X-Color"))
        except (OSError, http.client.HTTPException) as exc:
            return Answer(None, None, f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    def colors(self, n: int = 10) -> set:
        """The colours (or statuses, or errors) of `n` requests through nginx."""
        out = set()
        for _ in range(n):
            a = self.get()
            out.add(a.color if a.status == 200 and a.color else f"HTTP {a.status}" if a.status else a.error)
        return out

    def error_log_text(self) -> str:
        try:
            return self.error_log.read_text(errors="replace")
        except OSError:
            return ""

    def _read_pid(self, timeout: float) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                return int(self.pid_file.read_text().strip())
            except (OSError, ValueError):
                time.sleep(0.01)
        raise RuntimeError(f"nginx wrote no pid file {self.pid_file}: {self.error_log_text()[-2000:]}")


def _alive(pid: int | None) -> bool:
    """True while `pid` runs (a zombie that nobody reaped counts as gone)."""
    if not pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")


def _kill_group(pid: int) -> None:
    """SIGKILL nginx's process group: only when `pid` (the master we started) still leads it."""
    try:
        if os.getpgid(pid) != pid:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
            return
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@contextlib.contextmanager
def _subreaper():
    """Linux: while nginx daemonizes, make this process the child subreaper, so the orphaned master becomes our
    child (and not a zombie of an init that does not reap). Elsewhere a no-op."""
    libc = None
    if sys.platform == "linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
                libc = None
        except (OSError, AttributeError):
            libc = None
    try:
        yield
    finally:
        if libc is not None:
            libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _reap(pid: int) -> None:
    """Collect the exit status of `pid` when it is our (re-parented) child and has exited."""
    end = time.monotonic() + 2
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child (no subreaper): nothing to reap
            return
        if done or time.monotonic() >= end:
            return
        time.sleep(0.01)


def _wait_listening(port: int, timeout: float, alive, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return
        except OSError:
            if not alive():
                raise RuntimeError(f"{what} exited before listening on {HOST}:{port}")
            time.sleep(0.01)
    raise RuntimeError(f"{what} does not listen on {HOST}:{port} after {timeout}s")


def _serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="nginx_bed.py app")
    parser.add_argument("color", choices=COLORS)
    parser.add_argument("port", type=int)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    app = App(args.color, args.port, args.delay)
    server = _Server((HOST, app.port), _Handler)
    server.app = app
    def interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "app":
        _serve(sys.argv[2:])
    else:
        sys.exit("usage: python tests/nginx_bed.py app COLOR PORT [--delay SECONDS]")
