"""`migrator serve`: the switch and contract gates over HTTP, read-only, for progressive-delivery engines.

    GET  /v1/releases/current/gates/{switch,contract}           200 {"passed": bool, "checks": [...], ...}
    POST /v1/releases/current/gates/{switch,contract}/confirm   200 when the gate passes, 409 with the reasons
    GET  /v1/healthz                                            200 when the database answers, else 503

The two forms answer the two engines' contracts: an Argo Rollouts web metric counts any non-2xx answer as a
measurement *error* and reads the verdict from the JSON (`successCondition: result.passed == true`), so the GET
answers 200 whatever the verdict; a Flagger `confirm-promotion` webhook promotes on 2xx only, so the POST (which
takes Flagger's payload: name, namespace, phase, metadata) answers 409 when the gate refuses. `current` may be a
release id instead. An error (database gone, tampered ledger, unusable evidence or configuration) is 503 with a
one-line JSON reason, never a traceback; the server keeps serving.

Every gate is evaluated per request by migrator.release.verdict.evaluate (what `migrator gate` prints), on its
own connection whose transactions are READ ONLY: the ledger is never changed. Requests need `Authorization:
Bearer <token>` (the token from an environment variable), except /v1/healthz; Flagger, which cannot send headers
with a webhook, may put it in the payload's metadata as `token`. Logs go to stderr.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
import re
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from migrator.errors import MigratorError, UsageError

if TYPE_CHECKING:
    from migrator.release.commands import ReleaseContext

log = logging.getLogger("migrator.serve")

TOKEN_ENV = "MIGRATOR_SERVE_TOKEN"
MAX_BODY = 64 * 1024
MAX_EVALUATIONS = 4  # gate evaluations at a time (each: a connection, maybe the router hook and the app's child)
_GATE = re.compile(r"^/v1/releases/(?P<release>[A-Za-z0-9][A-Za-z0-9._-]{0,99})/gates/(?P<gate>switch|contract)"
                   r"(?P<confirm>/confirm)?/?$")


@dataclasses.dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None  # None: --no-auth
    request_timeout: float = 30.0  # seconds a client may take to send its request


def token_from_env(env_name: str | None, no_auth: bool, environ=None) -> str | None:
    """The bearer token from the variable `env_name` (default MIGRATOR_SERVE_TOKEN); UsageError (exit 2) when it
    is unset or empty, unless `no_auth`."""
    import os

    environ = os.environ if environ is None else environ
    name = env_name or TOKEN_ENV
    value = (environ.get(name) or "").strip()
    if no_auth:
        if value:
            log.warning("--no-auth: the token in $%s is ignored; every client may read the gates", name)
        return None
    if not value:
        raise UsageError(f"serve needs a bearer token in ${name} (or --token-env NAME), or --no-auth for a server "
                         "that only trusted clients can reach")
    if len(value) < 16:
        raise UsageError(f"the token in ${name} is too short: use at least 16 characters (e.g. openssl rand -hex 32)")
    return value


class GateServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, ctx: ReleaseContext, options: ServeOptions):
        self.ctx = ctx
        self.options = options
        self.slots = threading.BoundedSemaphore(MAX_EVALUATIONS)
        super().__init__((options.host, options.port), _Handler)

    # -- the answers ------------------------------------------------------------------------------------------
    def gate(self, release: str, name: str) -> tuple[int, dict]:
        """(HTTP status, body) of one evaluation: 200 with the verdict, 503 with the reason of an error."""
        from migrator.release import commands
        from migrator.release.verdict import evaluate

        ctx = self.ctx if release == "current" else dataclasses.replace(self.ctx, release_id=release)
        if not self.slots.acquire(timeout=60):
            return 503, {"error": "busy: too many gate evaluations under way; retry"}
        try:
            return 200, evaluate(ctx, name)
        except MigratorError as exc:
            return 503, {"error": commands.scrub(exc, ctx.database_url), "gate": name,
                         "exit_code": getattr(exc, "exit_code", 2)}
        except Exception as exc:  # noqa: BLE001 - a bug: one line, the server keeps serving
            log.error("internal error evaluating the %s gate: %s: %s", name, type(exc).__name__,
                      commands.scrub(exc, ctx.database_url)[:300], exc_info=log.isEnabledFor(logging.DEBUG))
            return 500, {"error": f"internal error: {type(exc).__name__}", "gate": name}
        finally:
            self.slots.release()

    def health(self) -> tuple[int, dict]:
        from migrator.release import commands

        url = self.ctx.database_url
        assert url is not None  # serve() refuses to start without a target database
        try:
            conn = commands.connect(url, read_only=True)
        except MigratorError as exc:
            return 503, {"status": "unavailable", "error": commands.scrub(exc, url)}
        try:
            conn.execute("SELECT 1").fetchone()
            return 200, {"status": "ok", "database": commands.safe_url(url)}
        except Exception as exc:  # noqa: BLE001
            return 503, {"status": "unavailable", "error": f"database error: {commands.scrub(exc, url)}"}
        finally:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def authorized(self, header: str | None, payload: dict | None = None) -> bool:
        expected = self.options.token
        if expected is None:
            return True
        given = None
        if header and header[:7].lower() == "bearer ":
            given = header[7:].strip()
        elif isinstance(payload, dict) and isinstance(payload.get("metadata"), dict):
            given = payload["metadata"].get("token")  # Flagger cannot send headers with its webhooks
        if not isinstance(given, str) or not given:
            return False
        return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class _Handler(BaseHTTPRequestHandler):
    server: GateServer
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "migrator-serve"

    def setup(self) -> None:
        # typeshed declares StreamRequestHandler.timeout a ClassVar; setup() reads it from the instance
        self.timeout = self.server.options.request_timeout  # type: ignore[misc]
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path in ("/v1/healthz", "/v1/healthz/"):
            self._send(*self.server.health())
            return
        match = _GATE.match(path)
        if not match:
            self._send(404, {"error": f"no such resource: {path[:200]}"})
            return
        if match["confirm"]:
            self._send(405, {"error": "confirm takes POST (Flagger's confirm-promotion webhook)"}, allow="POST")
            return
        if not self.server.authorized(self.headers.get("Authorization")):
            self._unauthorized()
            return
        started = time.monotonic()
        status, body = self.server.gate(match["release"], match["gate"])
        self._send(status, body, note=_verdict(body) + _took(started))

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        match = _GATE.match(path)
        if not match:
            self._send(404, {"error": f"no such resource: {path[:200]}"}, drain=True)
            return
        if not match["confirm"]:
            self._send(405, {"error": f"the gate's verdict is a GET; Flagger's webhook is POST "
                                      f"{path.rstrip('/')}/confirm"}, allow="GET", drain=True)
            return
        payload, problem = self._payload()
        if problem:
            self._send(problem[0], {"error": problem[1]})
            return
        if not self.server.authorized(self.headers.get("Authorization"), payload):
            self._unauthorized()
            return
        started = time.monotonic()
        status, body = self.server.gate(match["release"], match["gate"])
        if status == 200:
            body = {**body, "canary": {k: payload.get(k) for k in ("name", "namespace", "phase") if k in payload}}
            if not body["passed"]:
                status = 409
        self._send(status, body, note=_verdict(body) + _canary(payload) + _took(started))

    def do_PUT(self) -> None:  # noqa: N802
        self._send(405, {"error": "read-only: GET the gates, POST .../confirm"}, allow="GET, POST", drain=True)

    do_DELETE = do_PATCH = do_PUT  # noqa: N815

    # -- helpers ------------------------------------------------------------------------------------------------
    def _payload(self) -> tuple[dict, tuple[int, str] | None]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return {}, (400, "bad Content-Length")
        if length > MAX_BODY:
            self.close_connection = True
            return {}, (413, f"payload over {MAX_BODY // 1024} KiB")
        raw = self.rfile.read(length) if length > 0 else b""
        if not raw.strip():
            return {}, None
        try:
            payload = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return {}, (400, f"the payload is not JSON: {exc.msg if hasattr(exc, 'msg') else exc}")
        if not isinstance(payload, dict):
            return {}, (400, "the payload must be a JSON object (Flagger's: name, namespace, phase, metadata)")
        return payload, None

    def _unauthorized(self) -> None:
        self._send(401, {"error": "missing or wrong bearer token (Authorization: Bearer <token>)"},
                   www_authenticate='Bearer realm="migrator"', drain=True)

    def _send(self, status: int, body: dict, *, note: str = "", allow: str | None = None,
              www_authenticate: str | None = None, drain: bool = False) -> None:
        if drain:  # an unread request body must not be taken for the next request on this connection
            self.close_connection = True
        data = (json.dumps(body, indent=2, default=str) + "\n").encode("utf-8")
        self._note = note
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if allow:
            self.send_header("Allow", allow)
        if www_authenticate:
            self.send_header("WWW-Authenticate", www_authenticate)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code="-", size="-") -> None:  # noqa: ANN001 - http.server's signature
        from migrator.escape import escape_controls

        note = getattr(self, "_note", "")
        log.info("%s %s %s %s%s", self.client_address[0], self.command,
                 escape_controls(self.path.split("?", 1)[0][:200]), code, f" {escape_controls(note)}" if note else "")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        log.warning("%s: %s", self.client_address[0], format % args)


def _verdict(body: dict) -> str:
    if "passed" in body:
        return f"{body.get('gate')} gate {'passed' if body['passed'] else 'refused'}"
    return f"error: {body.get('error', '')}"[:300]


def _took(started: float) -> str:
    return f" in {time.monotonic() - started:.2f}s"


def _canary(payload: dict) -> str:
    if not payload.get("name"):
        return ""
    return f" (canary {payload.get('namespace') or '?'}/{payload['name']}, phase {payload.get('phase') or '?'})"


def serve(ctx: ReleaseContext, options: ServeOptions) -> int:
    """Serve until SIGTERM or SIGINT; 0 then. The configuration is read once, at start (an error: exit 2)."""
    from migrator.release import commands

    ctx.resolve(need_alembic=False)
    if not ctx.database_url:
        raise UsageError("no target database: pass --database-url or set MIGRATOR_DATABASE_URL")
    try:
        server = GateServer(ctx, options)
    except OSError as exc:
        raise UsageError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None
    host, port = server.server_address[:2]
    assert isinstance(host, str)  # an AF_INET / AF_INET6 address: (host, port[, ...])
    auth = "bearer token required" if options.token else "NO AUTHENTICATION (--no-auth)"
    log.info("serving the switch and contract gates on http://%s:%s (database %s, ledger schema %s; %s)",
             host if ":" not in host else f"[{host}]", port, commands.safe_url(ctx.database_url), ctx.schema, auth)
    if options.token is None and host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("--no-auth on %s: anyone who reaches this address reads the gates", host)

    def stop(signum, _frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
    return 0
