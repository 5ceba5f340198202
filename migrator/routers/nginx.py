"""The `nginx` router hook: migrator owns an upstream include file; a switch rewrites it, tests, reloads, probes.

    [tool.migrator.hook]
    kind = "nginx"
    upstream_file = "/etc/nginx/migrator/upstream.conf"     # migrator owns it; nginx.conf includes it
    targets = { blue = "127.0.0.1:8081", green = "127.0.0.1:8082" }   # or lists: several servers per colour
    health_url = "http://127.0.0.1/health"                  # through nginx; names the colour (header or body)
    nginx = "nginx"                                         # the binary (PATH lookup)
    nginx_args = ["-c", "/etc/nginx/nginx.conf"]            # given to `nginx -t` and `nginx -s reload` alike
    upstream = "app"            # optional: write a whole `upstream app { ... }` block, not only server lines
    upstream_directives = ["keepalive 32"]                  # optional, with `upstream`
    color_header = "X-Color"    # where the probe looks first; then the body
    probe_headers = { Host = "shop.example" }               # optional, sent with every probe
    probe_timeout = "2s"        # one probe (one fresh connection)
    confirm_timeout = "10s"     # after the reload, the new colour must answer within this
    timeout = "30s"             # one run of nginx -t / nginx -s reload; also the gate's budget
    deadline = "60s"            # one phase (switch + verify)
    poll_interval = "50ms"      # between probes
    settle = "250ms"            # after the first answer of the new colour, only it must answer for this long
    check_targets = true        # gate: probe the new colour's servers directly before the switch

switch(to): the file is written atomically (temp file in the same directory, fsync, os.replace); `nginx -t` checks
the whole configuration with it; on failure the previous content is put back (atomically) and nothing is reloaded,
so the old colour keeps serving. Then `nginx -s reload`; when that fails (nginx not running) the file is restored
too. Then fresh-connection probes of `health_url` until only the new colour answers (for `settle`: the old workers
accept new connections until the master tells them to quit, ~100 ms after the new workers start) or
`confirm_timeout` passes (fail closed: nginx was reloaded, the colour did not change). Switching to the colour
already live only probes.
verify / current: one probe. gate: each server of the new colour answers the health path directly, naming no
other colour.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from migrator.errors import ConfigError
from migrator.routers.base import check_keys
from migrator.routers.protocol import (
    COLORS, FAILED, IN_PROGRESS, SUCCEEDED, HookPayload, HookResponse, utcnow)

WHERE = "[tool.migrator.hook]"
MARKER = "# migrator-live-color:"
MAX_BODY = 64 * 1024
SETTLE_PROBES = 3  # consecutive answers of the new colour that end the settle window
_SERVER = re.compile(r"[^\s;{}#\"'$\\]+(?: [^\s;{}#\"'$\\]+)*")  # an address plus optional parameters
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_DIRECTIVE = re.compile(r"[^;{}#\n\r]+")


@dataclass
class Probe:
    """One GET of a health URL on a fresh connection: the colour it names (None: none, or an error)."""

    url: str
    color: str | None
    status: int | None
    detail: str
    seconds: float

    def text(self) -> str:
        return f"{self.url} {self.detail} ({self.seconds * 1000:.0f} ms)"


class NginxRouter:
    """A router hook that moves traffic by rewriting an nginx upstream include file (see the module docstring)."""

    kind = "nginx"
    KEYS = {"kind", "upstream_file", "targets", "health_url", "nginx", "nginx_args", "upstream",
            "upstream_directives", "color_header", "probe_headers", "probe_timeout", "confirm_timeout", "timeout",
            "deadline", "poll_interval", "check_targets", "settle"}

    def __init__(self, upstream_file, targets: dict, health_url: str, *, nginx: str = "nginx",
                 nginx_args=(), upstream: str | None = None, upstream_directives=(), color_header: str = "X-Color",
                 probe_headers: dict | None = None, probe_timeout: float = 2.0, confirm_timeout: float = 10.0,
                 timeout: float = 30.0, deadline: float = 60.0, poll_interval: float = 0.05, settle: float = 0.25,
                 check_targets: bool = True, cwd=None, name: str = "nginx"):
        self.upstream_file = Path(upstream_file)
        self.targets = dict(targets)
        self.servers = {c: _servers(targets.get(c), c) for c in COLORS}
        scheme = urlsplit(health_url).scheme
        if scheme not in ("http", "https") or not urlsplit(health_url).hostname:
            raise ConfigError(f"{WHERE}: health_url must be an http:// or https:// URL, not {health_url!r}")
        self.health_url = health_url
        self.nginx = nginx
        self.nginx_args = [str(a) for a in nginx_args]
        if upstream is not None and not _NAME.fullmatch(upstream):
            raise ConfigError(f"{WHERE}: upstream must be an nginx upstream name (letters, digits, _ . -), "
                              f"not {upstream!r}")
        self.upstream = upstream
        self.upstream_directives = [d.strip().rstrip(";").strip() for d in upstream_directives]
        if any(not _DIRECTIVE.fullmatch(d) for d in self.upstream_directives):
            raise ConfigError(f"{WHERE}: upstream_directives must be single directives without ; {{ }} # or "
                              "line breaks, e.g. [\"keepalive 32\"]")
        if self.upstream_directives and upstream is None:
            raise ConfigError(f"{WHERE}: upstream_directives needs upstream = \"NAME\" (migrator then writes the "
                              "whole upstream block)")
        self.color_header = color_header
        self.probe_headers = {str(k): str(v) for k, v in (probe_headers or {}).items()}
        self.probe_timeout = float(probe_timeout)
        self.confirm_timeout = float(confirm_timeout)
        self.timeout = float(timeout)
        self.deadline = float(deadline)
        self.poll_interval = float(poll_interval)
        self.settle = float(settle)
        self.check_targets = bool(check_targets)
        self.cwd = str(cwd) if cwd is not None else None
        self.name = name
        for key in ("probe_timeout", "confirm_timeout", "timeout", "deadline"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"{WHERE}: {key} must be > 0")

    @classmethod
    def from_config(cls, config: dict, *, project_dir=None) -> "NginxRouter":
        from migrator.routers.command import seconds

        check_keys(config, cls.KEYS, "nginx")
        for key in ("upstream_file", "targets", "health_url"):
            if key not in config:
                raise ConfigError(f'{WHERE}: kind = "nginx" needs {key} (see docs/hooks.md, "The nginx router")')
        base = Path(project_dir) if project_dir is not None else Path.cwd()
        upstream_file = config["upstream_file"]
        if not isinstance(upstream_file, str) or not upstream_file:
            raise ConfigError(f"{WHERE}: upstream_file must be a path")
        targets = config["targets"]
        if not isinstance(targets, dict):
            raise ConfigError(f"{WHERE}: targets must be a table: {{ blue = \"host:port\", green = \"host:port\" }}")
        nginx = config.get("nginx", "nginx")
        if not isinstance(nginx, str) or not nginx:
            raise ConfigError(f"{WHERE}: nginx must be the nginx binary (a name on PATH or a path)")
        if "/" in nginx and not Path(nginx).is_absolute():
            nginx = str(base / nginx)
        args = config.get("nginx_args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ConfigError(f"{WHERE}: nginx_args must be a list of strings, e.g. "
                              "[\"-c\", \"/etc/nginx/nginx.conf\"]")
        for key, kind in (("health_url", str), ("upstream", str), ("color_header", str), ("probe_headers", dict),
                          ("upstream_directives", list), ("check_targets", bool)):
            if key in config and not isinstance(config[key], kind):
                raise ConfigError(f"{WHERE}: {key} must be a {'table' if kind is dict else kind.__name__}")
        kwargs: dict[str, Any] = {k: seconds(config[k], k) for k in ("probe_timeout", "confirm_timeout", "timeout",
                                                                      "deadline", "poll_interval", "settle")
                                  if k in config}
        kwargs.update({k: config[k] for k in ("upstream", "upstream_directives", "color_header", "probe_headers",
                                              "check_targets") if k in config})
        return cls(base / upstream_file, targets, config["health_url"], nginx=nginx, nginx_args=args, cwd=base,
                   **kwargs)

    # -- the file ----------------------------------------------------------------------------------------------
    def render(self, color: str) -> str:
        """The upstream file that sends traffic to `color`."""
        head = (f"# Managed by migrator (kind = \"nginx\"); `migrator switch` / `rollback` rewrite it. Do not edit.\n"
                f"{MARKER} {color}\n")
        servers = "".join(f"server {s};\n" for s in self.servers[color])
        if self.upstream is None:
            return head + servers
        body = "".join(f"    server {s};\n" for s in self.servers[color])
        body += "".join(f"    {d};\n" for d in self.upstream_directives)
        return head + f"upstream {self.upstream} {{\n{body}}}\n"

    def file_color(self) -> str | None:
        """The colour the upstream file names (what nginx serves after its next reload), None if unknown."""
        try:
            text = self.upstream_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(MARKER):
                color = line[len(MARKER):].strip()
                return color if color in COLORS else None
        return None

    # -- RouterHook --------------------------------------------------------------------------------------------
    def switch(self, payload: HookPayload) -> HookResponse:
        """Make payload.to_color live: write the file, nginx -t, reload, probe until it answers (see module doc)."""
        to = payload.to_color
        if to not in COLORS:
            return HookResponse.failed(f"nginx: cannot switch to {to!r}")
        path = self.upstream_file
        if payload.dry_run:
            return HookResponse(SUCCEEDED, f"dry run: would write {path} with {to}'s servers "
                                           f"({', '.join(self.servers[to])}), run nginx -t and reload")
        end = time.monotonic() + _remaining(payload, self.deadline)
        new = self.render(to).encode()
        try:
            lock = _dir_lock(path.parent, end)
        except OSError as exc:
            return HookResponse.failed(f"nginx: cannot lock {path.parent}: {_oserror(exc)}; nothing changed")
        with lock:  # held until the new colour is confirmed: two switches never interleave
            return self._switch_locked(to, path, new, end)

    def _switch_locked(self, to: str, path: Path, new: bytes, end: float) -> HookResponse:
        try:
            old = path.read_bytes()
        except FileNotFoundError:
            old = None
        except OSError as exc:
            return HookResponse.failed(f"nginx: cannot read {path}: {_oserror(exc)}; nothing changed")
        written = False
        if old is not None and _directives(old) == _directives(new):  # the same servers (comments aside)
            probe = self.probe(end=end)
            if probe.color == to:
                return self._answer(SUCCEEDED, f"already on {to}: {path} names {to}'s servers and "
                                               f"{probe.text()}", probe)
            # the file is right but nginx may not have loaded it (a run that stopped before the reload)
        else:
            try:
                _write_atomic(path, new)
                written = True
            except OSError as exc:
                return HookResponse.failed(f"nginx: cannot write {path}: {_oserror(exc)}; nothing changed, "
                                           f"nginx not reloaded")
        ok, out = self.run_nginx("-t", end=end)
        if not ok:
            return HookResponse.failed(f"nginx -t failed with {to}'s servers in {path}: {out}; "
                                       + self._restore(path, old, written) + ", nginx not reloaded (the old "
                                       "configuration keeps serving)")
        ok, out = self.run_nginx("-s", "reload", end=end)
        if not ok:
            return HookResponse.failed(f"nginx -s reload failed (is nginx running?): {out}; "
                                       + self._restore(path, old, written))
        return self._confirm(to, end)

    def _confirm(self, to: str, end: float) -> HookResponse:
        """After the reload: probe until only `to` answers for `settle`, or confirm_timeout / the deadline."""
        reloaded = time.monotonic()
        confirm_end = min(end, reloaded + self.confirm_timeout)
        first_ever = since = None  # when the new colour first answered; since when only it answers
        streak = 0
        while True:
            probe = self.probe(end=confirm_end)
            now = time.monotonic()
            if probe.color == to:
                first_ever = now if first_ever is None else first_ever
                since = now if since is None else since
                streak += 1
                # old workers keep accepting until the master tells them to quit (~100 ms after the new ones
                # start): confirmed once only the new colour answered for `settle` (and SETTLE_PROBES probes)
                if now - since >= self.settle and streak >= SETTLE_PROBES:
                    return self._answer(SUCCEEDED, f"nginx reloaded with {to}'s servers; {to} answered "
                                                   f"{(first_ever - reloaded) * 1000:.0f} ms after the reload, "
                                                   f"only {to} for {(now - since) * 1000:.0f} ms ({probe.url})",
                                        probe)
            else:
                since, streak = None, 0
            left = confirm_end - time.monotonic()
            if left <= 0:
                why = "the deadline" if confirm_end == end else f"confirm_timeout ({self.confirm_timeout:g}s)"
                seen = (f"did not answer {to}" if first_ever is None else
                        f"answered {to} only now and then")
                return self._answer(FAILED, f"nginx was reloaded with {to}'s servers, but the colour did not change: "
                                            f"{probe.url} {seen} within {why}; last probe: {probe.detail}", probe)
            time.sleep(min(self.poll_interval, left))

    def verify(self, payload: HookPayload) -> HookResponse:
        """One probe: succeeded when health_url names payload.to_color; in progress otherwise."""
        probe = self.probe(end=time.monotonic() + _remaining(payload, self.probe_timeout))
        if payload.to_color is not None and probe.color == payload.to_color:
            return self._answer(SUCCEEDED, f"serving {probe.color}: {probe.text()}", probe)
        if probe.color is not None:
            message = f"still serving {probe.color}: {probe.text()}"
        else:
            message = f"no colour: {probe.text()}"
        return self._answer(IN_PROGRESS, message, probe, retry=self.poll_interval)

    def current(self) -> str | None:
        return self.probe().color

    def describe_current(self) -> HookResponse:
        """current() with the reason: succeeded + observed colour, or failed with what the probe saw."""
        probe = self.probe()
        if probe.color is None:
            return self._answer(FAILED, f"no colour: {probe.text()}", probe)
        file_color = self.file_color()
        note = "" if file_color in (None, probe.color) else f"; {self.upstream_file} names {file_color} (not loaded?)"
        return self._answer(SUCCEEDED, f"{probe.text()}{note}", probe)

    def gate(self, payload: HookPayload) -> HookResponse:
        """Before the switch: every server of the new colour answers the health path directly (2xx) and names no
        other colour. Unix-socket servers cannot be probed and are reported as not checked."""
        to = payload.to_color
        if not self.check_targets or to not in COLORS:
            return HookResponse(SUCCEEDED, "servers not checked (check_targets = false)")
        end = time.monotonic() + _remaining(payload, self.timeout)
        parts = urlsplit(self.health_url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        checked, skipped = [], []
        for server in self.servers[to]:
            address = server.split(" ", 1)[0]
            if address.startswith("unix:"):
                skipped.append(address)
                continue
            probe = self.probe(f"{parts.scheme}://{address}{path}", end=end)
            if probe.status is None or not 200 <= probe.status < 300:
                return HookResponse.failed(f"{to}'s server {address} is not healthy: {probe.text()}")
            if probe.color not in (None, to):
                return HookResponse.failed(f"{to}'s server {address} answers as {probe.color}: {probe.text()}")
            checked.append(address)
        note = f"; not checked: {', '.join(skipped)}" if skipped else ""
        return HookResponse(SUCCEEDED, f"{to}'s servers answer {path}: {', '.join(checked) or 'none'}{note}")

    # -- nginx and probes --------------------------------------------------------------------------------------
    def run_nginx(self, *args: str, end: float | None = None) -> tuple[bool, str]:
        """`nginx <nginx_args> <args>` -> (ok, the lines that matter of its output)."""
        binary = self.nginx if "/" in self.nginx else (shutil.which(self.nginx) or self.nginx)
        command = [binary, *self.nginx_args, *args]
        limit = self.timeout if end is None else max(0.1, min(self.timeout, end - time.monotonic()))
        try:
            proc = subprocess.run(command, capture_output=True, timeout=limit, stdin=subprocess.DEVNULL,
                                  cwd=self.cwd)
        except FileNotFoundError:
            return False, f"nginx binary {self.nginx!r} not found (set nginx = \"/usr/sbin/nginx\")"
        except PermissionError as exc:
            return False, f"cannot run {self.nginx!r}: {_oserror(exc)}"
        except subprocess.TimeoutExpired:
            return False, f"`{' '.join(command)}` did not finish within {limit:.1f}s"
        text = (proc.stderr + proc.stdout).decode("utf-8", "replace")
        return proc.returncode == 0, _nginx_message(text, proc.returncode)

    def probe(self, url: str | None = None, *, end: float | None = None) -> Probe:
        """GET `url` (default health_url) on a new connection (Connection: close); never raises."""
        url = url or self.health_url
        timeout = self.probe_timeout if end is None else max(0.05, min(self.probe_timeout, end - time.monotonic()))
        started = time.monotonic()
        headers = {"Connection": "close", "Cache-Control": "no-cache", "User-Agent": "migrator-nginx-probe",
                   **self.probe_headers}
        try:
            parts = urlsplit(url)  # a target such as "[::1" or ":8082" makes a URL without a usable host
            host = parts.hostname
            if not host:
                raise ValueError("no host")
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = cls(host, parts.port, timeout=timeout)
        except (ValueError, http.client.HTTPException) as exc:
            return Probe(url, None, None, f"invalid URL: {exc}", 0.0)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read(MAX_BODY)
        except (OSError, http.client.HTTPException) as exc:
            return Probe(url, None, None, _probe_error(exc), time.monotonic() - started)
        finally:
            conn.close()
        seconds = time.monotonic() - started
        header = response.getheader(self.color_header) if self.color_header else None
        if not 200 <= response.status < 300:
            return Probe(url, None, response.status, f"answered HTTP {response.status}", seconds)
        if header is not None:
            value = header.strip().lower()
            if value in COLORS:
                return Probe(url, value, response.status, f"answered {value} ({self.color_header})", seconds)
            return Probe(url, None, response.status, f"answered {self.color_header}: {header.strip()[:40]!r}",
                         seconds)
        color = _body_color(body)
        if color is None:
            return Probe(url, None, response.status, "answered HTTP 200 without naming blue or green (no "
                         f"{self.color_header} header, nothing in the body)", seconds)
        return Probe(url, color, response.status, f"answered {color} (body)", seconds)

    # -- helpers -----------------------------------------------------------------------------------------------
    def _answer(self, status: str, message: str, probe: Probe, retry: float | None = None) -> HookResponse:
        return HookResponse(status, message, retry, {"active_color": probe.color} if probe.color else {})

    def _restore(self, path: Path, old: bytes | None, written: bool) -> str:
        if not written:
            return f"{path} unchanged"
        try:
            if old is None:
                path.unlink(missing_ok=True)
                return f"{path} removed again (it did not exist before)"
            _write_atomic(path, old)
        except OSError as exc:
            return f"RESTORING {path} FAILED ({_oserror(exc)}): it names the new colour; fix it before any reload"
        return f"{path} restored"


# -- module helpers -------------------------------------------------------------------------------------------
def _servers(value, color: str) -> list[str]:
    if value is None:
        raise ConfigError(f"{WHERE}: targets.{color} is missing (the nginx router needs both blue and green)")
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(s, str) for s in items):
        raise ConfigError(f"{WHERE}: targets.{color} must be \"host:port\" or a non-empty list of them")
    out = []
    for item in items:
        item = " ".join(item.split())
        if not _SERVER.fullmatch(item):
            raise ConfigError(f"{WHERE}: targets.{color} = {item!r} is not an nginx server address (no spaces "
                              "around it, no ; {{ }} # quotes or $)")
        out.append(item)
    return out


def _remaining(payload: HookPayload | None, default: float) -> float:
    if payload is None or payload.deadline is None:
        return default
    return max(0.0, (payload.deadline - utcnow()).total_seconds())


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: a temp file in the same directory, fsync, rename, fsync the directory. Readers
    (nginx -t, a reload) see the old or the new file, never a half-written one. Keeps the mode (and owner)."""
    try:
        st = path.stat()
        mode, owner = st.st_mode & 0o7777, (st.st_uid, st.st_gid)
    except FileNotFoundError:
        mode, owner = 0o644, None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if owner is not None and os.geteuid() == 0:
            with contextlib.suppress(OSError):
                os.chown(tmp, *owner)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


@contextlib.contextmanager
def _held(fd: int):
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _dir_lock(directory: Path, end: float):
    """An exclusive flock on the directory of the upstream file: two switches never interleave (other processes
    or threads). Waits until `end`, then raises OSError(EWOULDBLOCK)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return _held(fd)
        except BlockingIOError:
            if time.monotonic() >= end:
                os.close(fd)
                raise OSError(errno.EWOULDBLOCK, "another switch holds the lock until the deadline") from None
            time.sleep(0.02)
        except BaseException:
            os.close(fd)
            raise


def _directives(text: bytes) -> list[str]:
    """The file's content without comments and layout: what nginx reads of it."""
    lines = (line.split("#", 1)[0].strip() for line in text.decode("utf-8", "replace").splitlines())
    joined = " ".join(" ".join(line.split()) for line in lines if line)
    return [d.strip() for d in joined.split(";")]


def _body_color(body: bytes) -> str | None:
    text = body.decode("utf-8", "replace").strip()
    if text.lower() in COLORS:
        return text.lower()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("color", "colour", "active_color"):
                value = data.get(key)
                if isinstance(value, str) and value.strip().lower() in COLORS:
                    return value.strip().lower()
    found = set(re.findall(r"\b(blue|green)\b", text.lower()))
    return found.pop() if len(found) == 1 else None


def _probe_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "refused the connection (nothing listens there)"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "closed the connection without an answer"
    return f"failed: {type(exc).__name__}: {_oserror(exc) if isinstance(exc, OSError) else exc}"


def _oserror(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _nginx_message(text: str, code: int) -> str:
    """The lines of nginx's output that say what went wrong (emerg/alert/error/crit), else the last one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    important = [line for line in lines if re.search(r"\[(emerg|alert|crit|error)\]", line)]
    picked = important or lines[-1:]
    message = "; ".join(picked) if picked else f"exited with {code}"
    return message if len(message) <= 600 else message[:599] + "…"

