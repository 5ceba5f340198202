"""The `webhook` router hook against real HTTP servers on loopback ports (http.server in a thread, started and
stopped by fixtures): 200, 202 in_progress then 200, 4xx, 5xx then 200, a hanging or trickling server, garbage,
connection refused and reset, TLS; the HMAC signature checked on the server side; the secret never in a message,
a log line or the ledger; and the release flow (migrator.release.commands) failing closed through a webhook that
is down or has no secret. No mocks: every call is a real HTTP exchange."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import shutil
import socket
import struct
import subprocess
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from migrator.errors import ConfigError
from migrator.routers import HookPayload, get_hook, load_hook, move_traffic, rollback_traffic
from migrator.routers.webhook import WebhookHook, redact_url, signature
from migrator.release.errors import HookFailed

SECRET = "wh-S3cr3t-7f1d2c9e4b5a"  # must never show up in a message, a log line or the ledger
ENV = "MIGRATOR_WEBHOOK_SECRET"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"


# --- the test server --------------------------------------------------------------------------------------------


def answer(code: int = 200, body=None, headers: dict | None = None):
    """A behaviour: answer `code` with `body` (a dict/list is sent as JSON, bytes/str as they are)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return ("answer", code, body or b"", headers or {})


HANG, RESET, TRICKLE = ("hang",), ("reset",), ("trickle",)


class Server(ThreadingHTTPServer):
    """Answers each POST with the next behaviour of `steps` (the last one repeats), or `by_action[action]` when
    set, or `router(payload)` when set. Records every request: path, headers, raw body, decoded payload."""

    daemon_threads = True

    def __init__(self, port: int = 0, *, tls=None):
        super().__init__(("127.0.0.1", port), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.steps: list = [answer(200)]
        self.by_action: dict = {}
        self.router = None
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.released = threading.Event()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str = "/bg-hook", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def behave(self, *steps) -> None:
        self.steps = list(steps)

    def next_step(self, payload):
        with self.lock:
            action = (payload or {}).get("action")
            if action in self.by_action:
                return self.by_action[action]
            if self.router is not None:
                return self.router
            return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]

    def actions(self) -> list[str]:
        return [(r["payload"] or {}).get("action") for r in self.requests]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_POST(self):
        server: Server = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        with server.lock:
            server.requests.append({"path": self.path, "method": self.command, "headers": dict(self.headers),
                                    "body": body, "payload": payload, "at": time.monotonic()})
        step = server.next_step(payload)
        if callable(step):
            step = step(payload)
        kind = step[0]
        self.close_connection = True
        if kind == "hang":
            server.released.wait(30)
            return
        if kind == "reset":  # RST instead of an answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if kind == "trickle":  # headers at once, then one byte of the body every 0.1 s
            self.send_response(200)
            self.send_header("Content-Length", "50")
            self.end_headers()
            for _ in range(50):
                if server.released.wait(0.1):
                    return
                try:
                    self.wfile.write(b" ")
                except OSError:
                    return
            return
        _, code, data, headers = step
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve(server: Server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


def stop(server: Server, thread) -> None:
    server.released.set()  # hanging handlers return
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def server():
    srv = Server()
    thread = serve(srv)
    try:
        yield srv
    finally:
        stop(srv, thread)


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv(ENV, SECRET)
    return SECRET


@pytest.fixture
def refused_port() -> int:
    """A loopback port nothing listens on (the webhook is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_by(request: dict, secret: str = SECRET, max_skew: float = 60) -> bool:
    """The receiver's check, written independently of migrator: HMAC-SHA256(secret, timestamp + "." + raw body)."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    timestamp = headers.get("x-migrator-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_skew:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + mac, headers.get("x-migrator-signature", ""))


def payload(action="switch", seconds: float = 10, **kw) -> HookPayload:
    base = dict(release_id="r-42", phase="switch", action=action, from_color="blue", to_color="green",
                deadline=datetime.now(timezone.utc) + timedelta(seconds=seconds), evidence={"result": "pass"})
    base.update(kw)
    return HookPayload(**base)


def hook_for(url: str, **kw) -> WebhookHook:
    kw.setdefault("timeout", 1.0)
    kw.setdefault("poll_interval", 0.05)
    kw.setdefault("backoff_base", 0.05)
    kw.setdefault("backoff_max", 0.2)
    return WebhookHook(url, **kw)


def no_secret_anywhere(*texts) -> None:
    for text in texts:
        assert SECRET not in str(text)


# --- one call ------------------------------------------------------------------------------------------------


def test_200_posts_the_signed_payload(server, secret):
    server.behave(answer(200, {"status": "succeeded", "message": "moved", "observed": {"active_color": "green"}}))
    hook = hook_for(server.url("/bg-hook?team=shop"), headers={"X-Team": "shop"},
                    targets={"blue": "127.0.0.1:1", "green": "127.0.0.1:2"})
    p = payload(reason="because", metadata={"ticket": "OPS-1"})
    response = hook.switch(p)
    assert (response.status, response.message, response.observed_color) == ("succeeded", "moved", "green")

    [request] = server.requests
    assert request["method"] == "POST" and request["path"] == "/bg-hook?team=shop"
    assert signed_by(request)
    assert not signed_by(request, secret="another secret")
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json" and headers["X-Team"] == "shop"
    assert headers["X-Migrator-Signature"].startswith("sha256=") and len(headers["X-Migrator-Signature"]) == 71
    assert headers["X-Migrator-Signature"] == signature(SECRET, headers["X-Migrator-Timestamp"], request["body"])
    # the body is the command hook's payload, byte for byte what was signed
    sent = request["payload"]
    assert request["body"] == replace(p, targets=hook.targets).to_json().encode()
    assert sent["schema"] == "bg-hook/v1" and sent["idempotency_key"] == "r-42:switch:switch:green"
    assert (sent["action"], sent["from_color"], sent["to_color"], sent["attempt"]) == ("switch", "blue", "green", 1)
    assert sent["reason"] == "because" and sent["metadata"] == {"ticket": "OPS-1"}
    assert sent["targets"] == {"blue": "127.0.0.1:1", "green": "127.0.0.1:2"}
    assert SECRET.encode() not in request["body"]
    no_secret_anywhere(json.dumps(request["headers"]))

    # a body is optional: 200 / 201 without one are succeeded; verify and current go to the same endpoint
    server.behave(answer(201))
    assert hook.verify(payload("verify")).status == "succeeded"
    server.behave(answer(200, {"status": "succeeded", "observed": {"active_color": "blue"}}))
    assert hook.current() == "blue"
    assert server.actions() == ["switch", "verify", "current"]
    assert {r["path"] for r in server.requests} == {"/bg-hook?team=shop"}
    assert all(signed_by(r) for r in server.requests)


def test_202_in_progress_then_200_through_move_traffic(server, secret):
    switches = iter([answer(202, {"status": "in_progress", "retry_after_s": 0.1, "message": "reloading"}),
                     answer(202),  # no body: still in progress (after poll_interval)
                     answer(202, b"", {"Retry-After": "0"}),
                     answer(200, {"status": "succeeded"})])
    verifies = iter([answer(200, {"status": "in_progress", "observed": {"active_color": "blue"}}),
                     answer(200, {"status": "succeeded", "observed": {"active_color": "blue"}}),  # not yet
                     answer(200, {"status": "succeeded", "observed": {"active_color": "green"}})])
    server.by_action = {"switch": lambda p: next(switches), "verify": lambda p: next(verifies)}
    hook = hook_for(server.url(), poll_interval=0.02)
    response = move_traffic(hook, "r-7", "green", "blue", "switch", {}, 10)
    assert response.ok and response.observed_color == "green"
    assert [(c["action"], c["attempt"], c["status"], c["observed"]) for c in response.calls] == [
        ("switch", 1, "in_progress", None), ("switch", 2, "in_progress", None), ("switch", 3, "in_progress", None),
        ("switch", 4, "succeeded", None),
        ("verify", 1, "in_progress", "blue"), ("verify", 2, "succeeded", "blue"), ("verify", 3, "succeeded", "green")]
    assert response.calls[0]["message"] == "reloading"
    keys = {r["payload"]["idempotency_key"] for r in server.requests if r["payload"]["action"] == "switch"}
    assert keys == {"r-7:switch:switch:green"}
    assert all(signed_by(r) for r in server.requests)
    # the first retry_after_s (0.1 s) was honoured
    first, second = server.requests[:2]
    assert second["at"] - first["at"] >= 0.09

    # a 202 answer carries the Retry-After header into retry_after_s when the body gives none
    server.by_action = {}
    server.behave(answer(202, {"message": "queued"}, {"Retry-After": "3"}))
    r = hook.switch(payload())
    assert (r.status, r.retry_after_s, r.message) == ("in_progress", 3.0, "queued")
    # 200 with status in_progress polls; 202 with status succeeded is succeeded (the body speaks)
    server.behave(answer(200, {"status": "in_progress"}))
    assert hook.switch(payload()).status == "in_progress"
    server.behave(answer(202, {"status": "succeeded"}))
    assert hook.switch(payload()).status == "succeeded"


def test_4xx_is_a_final_failure_with_the_servers_message(server, secret):
    server.behave(answer(403, {"status": "failed", "message": "forbidden: team shop may not switch prod"}))
    hook = hook_for(server.url())
    started = time.monotonic()
    r = hook.switch(payload())
    assert r.status == "failed" and len(server.requests) == 1 and time.monotonic() - started < 1
    assert r.message == "switch: HTTP 403 Forbidden: forbidden: team shop may not switch prod"

    server.requests.clear()
    server.behave(answer(404, "<html>\n<body>" + "x" * 5000 + "</body></html>"))
    r = hook.verify(payload("verify"))
    assert r.status == "failed" and len(server.requests) == 1
    assert r.message.startswith("verify: HTTP 404 Not Found: <html> <body>xxx") and len(r.message) < 260
    assert "\n" not in r.message

    # 408 and 429 mean "later": retried like a 5xx
    server.requests.clear()
    server.behave(answer(429, "slow down", {"Retry-After": "0"}), answer(408), answer(200))
    assert hook.switch(payload()).ok and len(server.requests) == 3


def test_5xx_then_200_is_retried_with_a_fresh_signature(server, secret):
    server.behave(answer(503, "draining", {"Retry-After": "0"}), answer(500), RESET, answer(502),
                  answer(200, {"observed": {"active_color": "green"}}))
    hook = hook_for(server.url())
    r = hook.switch(payload())
    assert r.ok and r.observed_color == "green"
    assert len(server.requests) == 5 and all(signed_by(req) for req in server.requests)
    # the same body every try (same attempt, same idempotency key): a retry is not a new call
    assert len({req["body"] for req in server.requests}) == 1
    gaps = [b["at"] - a["at"] for a, b in zip(server.requests, server.requests[1:])]
    assert all(g >= 0.02 for g in gaps)  # backed off (base 50 ms, equal jitter: at least 25 ms)


def test_5xx_until_the_deadline_fails_with_the_last_error(server, secret):
    server.behave(answer(503, {"message": "upstream draining"}))
    hook = hook_for(server.url())
    started = time.monotonic()
    r = hook.switch(payload(seconds=1.0))
    elapsed = time.monotonic() - started
    assert r.status == "failed" and elapsed < 1.5
    assert r.message.startswith("switch: gave up at the deadline after ")
    assert r.message.endswith("; last: HTTP 503 Service Unavailable: upstream draining")
    assert len(server.requests) >= 4


def test_a_hanging_server_times_out_per_attempt_then_fails_at_the_deadline(server, secret):
    server.behave(HANG)
    hook = hook_for(server.url(), timeout=0.3)
    started = time.monotonic()
    r = hook.switch(payload(seconds=1.5))
    elapsed = time.monotonic() - started
    assert r.status == "failed" and "gave up at the deadline" in r.message
    assert "; last: no answer within 0." in r.message
    assert 0.9 <= elapsed < 2.2
    assert len(server.requests) >= 3  # every try gave up after 0.3 s and was retried
    gaps = [b["at"] - a["at"] for a, b in zip(server.requests, server.requests[1:])]
    assert all(0.3 <= g < 0.9 for g in gaps)

    # the phase deadline caps the attempt: timeout 10 s, 0.5 s left
    server.requests.clear()
    started = time.monotonic()
    r = hook_for(server.url(), timeout=10).switch(payload(seconds=0.5))
    assert r.status == "failed" and time.monotonic() - started < 1.2


def test_an_answer_that_trickles_in_is_bounded_by_the_attempt_timeout(server, secret):
    server.behave(TRICKLE)  # 50 bytes at 10 bytes per second: 5 s
    hook = hook_for(server.url(), timeout=0.4)
    started = time.monotonic()
    r = hook.switch(payload(seconds=1.0))
    assert r.status == "failed" and "; last: no answer within " in r.message  # the last try had less time left
    assert time.monotonic() - started < 1.6
    assert len(server.requests) >= 2
    assert 0.4 <= server.requests[1]["at"] - server.requests[0]["at"] < 0.9  # the first try ended at 0.4 s


@pytest.mark.parametrize("step, expected", [
    (answer(200, "<html>router console</html>"), "switch: HTTP 200 but the body is not a bg-hook/v1 response"),
    (answer(200, "ok"), "switch: HTTP 200 but the body is not a bg-hook/v1 response"),
    (answer(200, [1, 2]), "expected a JSON object, got list"),
    (answer(200, {"status": "done"}), "unknown \"status\" 'done'"),
    (answer(202, {"status": "in_progress", "retry_after_s": -1}), "retry_after_s"),
    (answer(200, {"observed": {"active_color": "purple"}}), "observed.active_color"),
    (answer(200, b"\xff\xfe\x00garbage"), "switch: HTTP 200 but the body is not UTF-8 JSON"),
    (answer(203, {"status": "succeeded"}), "switch: unexpected HTTP 203"),
    (answer(204), "switch: unexpected HTTP 204"),
    (answer(302, b"", {"Location": "http://user:pw@elsewhere/?token=abc"}),
     "switch: HTTP 302 redirect to http://***@elsewhere/?*** not followed"),
    (answer(200, {"status": "failed"}), "switch: the webhook answered HTTP 200 with status failed"),
])
def test_garbage_and_unexpected_answers_fail_closed_without_retry(server, secret, step, expected):
    server.behave(step)
    r = hook_for(server.url()).switch(payload())
    assert r.status == "failed" and expected in r.message
    assert len(server.requests) == 1  # a wrong answer is not a transient error


def test_connection_refused_is_retried_until_the_deadline(refused_port, secret):
    hook = hook_for(f"http://127.0.0.1:{refused_port}/bg-hook")
    started = time.monotonic()
    r = hook.switch(payload(seconds=0.8))
    assert r.status == "failed" and r.message.endswith("; last: connection refused")
    assert "gave up at the deadline after" in r.message and time.monotonic() - started < 1.3
    assert hook.current() is None


def test_a_server_that_comes_back_within_the_deadline(secret):
    """Down first (connection refused), up 0.3 s later on the same port: the call succeeds."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hook = hook_for(f"http://127.0.0.1:{port}/bg-hook")
    holder: dict = {}

    def start_later():
        time.sleep(0.3)
        srv = Server(port)
        holder["server"], holder["thread"] = srv, serve(srv)

    starter = threading.Thread(target=start_later)
    starter.start()
    try:
        r = hook.switch(payload(seconds=5))
        starter.join()
        assert r.ok and len(holder["server"].requests) == 1 and signed_by(holder["server"].requests[0])
    finally:
        starter.join()
        if "server" in holder:
            stop(holder["server"], holder["thread"])


# --- the secret -----------------------------------------------------------------------------------------------


def test_missing_or_empty_secret_fails_closed_before_any_request(server, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    hook = hook_for(server.url())
    for method in ("switch", "verify", "gate"):
        r = getattr(hook, method)(payload(method))
        assert (r.status, r.message) == ("failed", "webhook secret missing: set $MIGRATOR_WEBHOOK_SECRET")
    monkeypatch.setenv(ENV, "")
    assert hook.switch(payload()).message == "webhook secret missing: set $MIGRATOR_WEBHOOK_SECRET"
    monkeypatch.setenv(ENV, "  ")
    assert hook.switch(payload()).status == "failed"
    assert hook.current() is None
    with pytest.raises(HookFailed, match=r"failed at switch: webhook secret missing: set \$MIGRATOR_WEBHOOK_SECRET"):
        move_traffic(hook, "r-1", "green", "blue", "switch", {}, 5)
    # secret_env names another variable
    monkeypatch.setenv(ENV, SECRET)
    other = hook_for(server.url(), secret_env="ROUTER_HOOK_KEY")
    assert other.switch(payload()).message == "webhook secret missing: set $ROUTER_HOOK_KEY"
    assert server.requests == []  # nothing was ever sent
    monkeypatch.setenv("ROUTER_HOOK_KEY", "another-key")
    assert other.switch(payload()).ok and signed_by(server.requests[0], "another-key")


def test_the_secret_and_url_credentials_never_show(server, secret, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    url = server.url("/bg-hook?token=Qu3ryT0ken").replace("http://", "http://ops:Pa55w0rdInUrl@")
    hook = hook_for(url)
    assert hook.name == f"webhook http://***@127.0.0.1:{server.port}/bg-hook?***"
    # the server echoes what it got, the secret included, in error answers
    echo = f"bad request {SECRET} Pa55w0rdInUrl token=Qu3ryT0ken"
    server.behave(answer(500, echo), answer(502, {"message": echo}), answer(400, {"message": echo}))
    r1 = hook.switch(payload())
    server.behave(answer(503, echo))
    r2 = hook.switch(payload(seconds=0.5))
    server.behave(answer(200, "garbage " + SECRET))
    r3 = hook.switch(payload())
    with pytest.raises(HookFailed) as failed:
        server.behave(answer(503, echo))
        move_traffic(hook, "r-1", "green", "blue", "switch", {}, 0.4)
    assert r1.status == r2.status == r3.status == "failed"
    assert "HTTP 400" in r1.message and "HTTP 503" in r2.message
    out = capfd.readouterr()
    everything = [r1.message, r2.message, r3.message, str(failed.value), json.dumps(failed.value.calls),
                  caplog.text, out.out, out.err, repr(hook), hook.name]
    for text in everything:
        assert SECRET not in text and "Pa55w0rdInUrl" not in text and "Qu3ryT0ken" not in text
    assert "retrying in" in caplog.text  # the retries were logged, without the secret
    # the credentials in the URL were sent as Basic auth, the query string as it is
    import base64

    assert server.requests[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(
        b"ops:Pa55w0rdInUrl").decode()
    assert server.requests[0]["path"] == "/bg-hook?token=Qu3ryT0ken"


# --- configuration ----------------------------------------------------------------------------------------------


def test_configuration(tmp_path, server):
    hook = get_hook({"kind": "webhook", "url": server.url(), "timeout": "2s", "deadline": "30s",
                     "poll_interval": "100ms", "headers": {"X-Team": "shop"},
                     "retry_backoff": {"base": "10ms", "max": "1s"}, "targets": {"blue": "a", "green": "b"}})
    assert isinstance(hook, WebhookHook) and hook.name == f"webhook {server.url()}"
    assert (hook.timeout, hook.deadline, hook.poll_interval) == (2.0, 30.0, 0.1)
    assert (hook.backoff_base, hook.backoff_max, hook.secret_env) == (0.01, 1.0, "MIGRATOR_WEBHOOK_SECRET")
    assert hook.targets == {"blue": "a", "green": "b"} and hook.headers == {"X-Team": "shop"}
    defaults = get_hook({"kind": "webhook", "url": "https://router.internal/hook"})
    assert (defaults.timeout, defaults.deadline, defaults.poll_interval) == (10.0, 3600.0, 1.0)

    with pytest.raises(ConfigError, match=r"secret must not be in the config file .* environment variable "
                                          r"\$MIGRATOR_WEBHOOK_SECRET"):
        get_hook({"kind": "webhook", "url": server.url(), "secret": "hunter2"})
    with pytest.raises(ConfigError, match=r"\$ROUTER_KEY"):
        get_hook({"kind": "webhook", "url": server.url(), "secret": "hunter2", "secret_env": "ROUTER_KEY"})
    try:
        get_hook({"kind": "webhook", "url": server.url(), "secret": "hunter2"})
    except ConfigError as exc:
        assert "hunter2" not in str(exc) and exc.exit_code == 2
    bad = [
        ({"kind": "webhook"}, 'needs url = "https://..."'),
        ({"kind": "webhook", "url": "ftp://host/x"}, "http:// or https://"),
        ({"kind": "webhook", "url": "http:///path"}, "with a host"),
        ({"kind": "webhook", "url": "http://host:99999/"}, "not a valid URL"),
        ({"kind": "webhook", "url": "http://u:pw@host/#frag"}, "fragment"),
        ({"kind": "webhook", "url": server.url(), "timout": "1s"}, r"unknown key\(s\) timout"),
        ({"kind": "webhook", "url": server.url(), "timeout": "0"}, "timeout must be > 0"),
        ({"kind": "webhook", "url": server.url(), "timeout": "soon"}, "timeout = 'soon'"),
        ({"kind": "webhook", "url": server.url(), "secret_env": "not a name"}, "secret_env must be the name"),
        ({"kind": "webhook", "url": server.url(), "headers": {"X-Migrator-Signature": "x"}}, "set by migrator"),
        ({"kind": "webhook", "url": server.url(), "headers": {"Content-Type": "text/plain"}}, "set by migrator"),
        ({"kind": "webhook", "url": server.url(), "headers": {"X-A": "one\r\nX-B: two"}}, "one-line string"),
        ({"kind": "webhook", "url": server.url(), "headers": {"bad name": "x"}}, "not a valid header name"),
        ({"kind": "webhook", "url": server.url(), "headers": ["x"]}, "headers must be a table"),
        ({"kind": "webhook", "url": "http://u:p@h/", "headers": {"Authorization": "x"}}, "give one of them"),
        ({"kind": "webhook", "url": server.url(), "retry_backoff": {"base": "1s", "max": "10ms"}}, "base <= max"),
        ({"kind": "webhook", "url": server.url(), "ca_file": "missing.pem"}, "ca_file 'missing.pem' not found"),
    ]
    for config, message in bad:
        with pytest.raises(ConfigError, match=message):
            get_hook(config, project_dir=tmp_path)

    (tmp_path / "pyproject.toml").write_text(
        f'[tool.migrator.hook]\nkind = "webhook"\nurl = "{server.url()}"\ntimeout = "3s"\n'
        'headers = { "X-Team" = "shop" }\n')
    loaded = load_hook(tmp_path / "pyproject.toml")
    assert isinstance(loaded, WebhookHook) and loaded.timeout == 3.0 and loaded.headers == {"X-Team": "shop"}

    assert redact_url("https://user:pw@h:8443/p/a?x=1#f") == "https://***@h:8443/p/a?***"
    assert redact_url("http://h/p") == "http://h/p"


def test_https_with_a_private_ca(tmp_path, secret):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    srv = Server(tls=context)
    thread = serve(srv)
    try:
        srv.behave(answer(200, {"observed": {"active_color": "green"}}))
        hook = get_hook({"kind": "webhook", "url": srv.url(scheme="https"), "ca_file": "cert.pem", "timeout": "2s"},
                        project_dir=tmp_path)
        assert hook.switch(payload()).ok and signed_by(srv.requests[0])
        started = time.monotonic()
        untrusted = hook_for(srv.url(scheme="https")).switch(payload())
        assert untrusted.status == "failed" and "TLS certificate not trusted" in untrusted.message
        assert time.monotonic() - started < 1  # not retried: it will not fix itself
    finally:
        stop(srv, thread)


def test_router_check_asks_the_webhook(tmp_path, server, monkeypatch):
    check = pytest.importorskip("migrator.routers.check")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.migrator.hook]\nkind = "webhook"\nurl = "{server.url()}"\ntimeout = "0.5s"\n')
    server.behave(answer(200, {"status": "succeeded", "observed": {"active_color": "green"}}))
    monkeypatch.setenv(ENV, SECRET)
    code, result = check.router_check(project_dir=str(tmp_path), expect="green")
    assert (code, result["active_color"], result["kind"]) == (0, "green", "webhook")
    assert server.actions() == ["current"] and signed_by(server.requests[0])
    assert server.requests[0]["payload"]["release_id"] is None
    monkeypatch.delenv(ENV)
    code, result = check.router_check(project_dir=str(tmp_path))
    assert (code, result["active_color"]) == (2, None)
    assert result["message"] == "webhook secret missing: set $MIGRATOR_WEBHOOK_SECRET"
    assert len(server.requests) == 1


# --- the documented receiver ------------------------------------------------------------------------------------


def docs_example(tag: str) -> str:
    after = DOCS.read_text().split(f"<!-- example: {tag} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def test_the_documented_receiver(secret, monkeypatch):
    namespace: dict = {"__name__": "router_webhook"}
    exec(compile(docs_example("webhook-receiver"), "router_webhook.py", "exec"), namespace)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), namespace["Router"])
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    namespace["Router"].log_message = lambda *a: None
    try:
        hook = get_hook({"kind": "webhook", "url": f"http://127.0.0.1:{srv.server_address[1]}/bg-hook",
                         "timeout": "2s", "poll_interval": "50ms"})
        assert hook.current() == "blue"
        assert hook.gate(payload("gate", phase="pre-switch")).ok
        assert move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10, dry_run=True).ok
        assert hook.current() == "blue"
        r = hook.verify(payload("verify"))
        assert (r.status, r.retry_after_s, r.observed_color) == ("in_progress", 1.0, "blue")
        assert move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10).observed_color == "green"
        assert hook.current() == "green"
        assert rollback_traffic(hook, "r-1", deadline=10, reason="p99").observed_color == "blue"
        # a wrong secret: the receiver answers 401, a final failure
        monkeypatch.setenv(ENV, "not-the-secret")
        r = hook.switch(payload())
        assert (r.status, r.message) == ("failed", "switch: HTTP 401 Unauthorized: bad signature")
        assert hook.current() is None
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


# --- the release flow -------------------------------------------------------------------------------------------

from tests.integration.test_release_commands import (  # noqa: E402,F401 - fixtures and helpers of the release tests
    ctx_for, demo, demo_template, evidence_for, expand_for, needs_applier, query, state_of)


def webhook_config(folder: Path, url: str, *, deadline: str = "1.5s") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "release-webhook.toml"
    config.write_text(
        "[tool.migrator]\npostgres_version = 15\n\n"
        '[tool.migrator.release]\nsoak = "0"\nlock_timeout = "500ms"\nlock_retries = 3\n\n'
        f'[tool.migrator.hook]\nkind = "webhook"\nurl = "{url}"\ntimeout = "0.5s"\ndeadline = "{deadline}"\n'
        'poll_interval = "50ms"\nretry_backoff = { base = "50ms", max = "200ms" }\n', encoding="utf-8")
    return config


class Router:
    """A webhook router with state: switch/rollback set the live colour, verify/current/gate report it."""

    def __init__(self):
        self.live = "blue"

    def __call__(self, p):
        if p["action"] in ("switch", "rollback") and not p["dry_run"]:
            self.live = p["to_color"]
        return answer(200, {"status": "succeeded", "observed": {"active_color": self.live}})


def ledger_rows(url: str, release_id: str) -> list[tuple]:
    return query(url, "SELECT command, result, detail::text FROM migrator.events WHERE release_id = %s ORDER BY id",
                 (release_id,))


def ready_to_switch(repo, config, url) -> str:
    from migrator.release import commands

    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    return rid


@pytest.mark.usefixtures("pg_server")
def test_release_switch_and_rollback_through_the_webhook(demo, server, secret):
    from migrator.release import commands

    needs_applier()
    repo, _, ops, url, _ = demo
    router = server.router = Router()
    config = webhook_config(ops, server.url())
    rid = ready_to_switch(repo, config, url)
    evidence = evidence_for(url, repo, ops / "evidence.json")
    done = commands.switch(ctx_for(repo, config, url, evidence=evidence))
    assert done["state"] == "switched" and done["observed"] == "green" and router.live == "green"
    done = commands.rollback(ctx_for(repo, config, url, reason="p99 went up"))
    assert done["state"] == "rolled_back" and router.live == "blue"
    assert server.actions() == ["gate", "switch", "verify", "rollback", "verify"]
    assert all(signed_by(r) for r in server.requests)
    assert server.requests[3]["payload"]["reason"] == "p99 went up"
    rows = ledger_rows(url, rid)
    assert [(c, r) for c, r, _ in rows][-4:] == [
        ("switch", "started"), ("switch", "succeeded"), ("rollback", "started"), ("rollback", "succeeded")]
    no_secret_anywhere(*(d for _, _, d in rows))


@pytest.mark.usefixtures("pg_server")
def test_release_switch_fails_closed_when_the_webhook_is_down(demo, refused_port, secret, caplog):
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    caplog.set_level(logging.DEBUG)
    repo, _, ops, url, _ = demo
    config = webhook_config(ops, f"http://127.0.0.1:{refused_port}/bg-hook")
    rid = ready_to_switch(repo, config, url)
    evidence = evidence_for(url, repo, ops / "evidence.json")
    with pytest.raises(GateRefused, match=r"router: webhook http://127.0.0.1:\d+/bg-hook pre-switch check failed: "
                                          r"gate: gave up at the deadline after \d+ tries; last: connection refused"):
        commands.switch(ctx_for(repo, config, url, evidence=evidence))
    assert state_of(url, rid) == ("migrated", "blue")
    command, result, detail = ledger_rows(url, rid)[-1]
    assert (command, result) == ("switch", "refused") and "connection refused" in detail

    # forced past the gate, the switch itself cannot reach the router: it fails, the ledger says so, and the
    # rollback that follows (the router may have moved) is recorded as failed too; nothing is switched, and as no
    # router confirmed where traffic is, the release keeps the switch's intent ('switching') for the next command
    with pytest.raises(HookFailed, match=r"failed at switch: switch: gave up at the deadline .* connection refused"):
        commands.switch(ctx_for(repo, config, url, evidence=evidence, force=True, reason="INC-7"))
    assert state_of(url, rid) == ("switching", "blue")
    rows = ledger_rows(url, rid)
    assert [(c, r) for c, r, _ in rows][-3:] == [("switch", "started"), ("switch", "failed"), ("rollback", "failed")]
    failed = json.loads(rows[-2][2])
    assert "connection refused" in failed["error"] and failed["calls"][0]["action"] == "switch"
    no_secret_anywhere(caplog.text, *(d for _, _, d in rows))


@pytest.mark.usefixtures("pg_server")
def test_release_switch_fails_closed_when_the_router_errors_after_the_gate(demo, server, secret):
    """The gate passes, the switch answers 503 until the deadline: switch failed, traffic sent back to blue."""
    from migrator.release import commands

    needs_applier()
    repo, _, ops, url, _ = demo
    router = server.router = Router()
    server.by_action["switch"] = answer(503, {"message": "config push failed"})
    config = webhook_config(ops, server.url(), deadline="1s")
    rid = ready_to_switch(repo, config, url)
    with pytest.raises(HookFailed, match=r"failed at switch: switch: gave up at the deadline after \d+ tries; last: "
                                         r"HTTP 503 Service Unavailable: config push failed"):
        commands.switch(ctx_for(repo, config, url, evidence=evidence_for(url, repo, ops / "e.json")))
    assert state_of(url, rid) == ("migrated", "blue") and router.live == "blue"
    rows = ledger_rows(url, rid)
    assert [(c, r) for c, r, _ in rows][-3:] == [("switch", "started"), ("switch", "failed"),
                                                 ("rollback", "succeeded")]
    assert "HTTP 503" in json.loads(rows[-2][2])["error"]
    assert server.actions()[0] == "gate" and server.actions()[-2:] == ["rollback", "verify"]


@pytest.mark.usefixtures("pg_server")
def test_release_switch_fails_closed_without_the_secret(demo, server, monkeypatch):
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    monkeypatch.delenv(ENV, raising=False)
    repo, _, ops, url, _ = demo
    server.router = Router()
    config = webhook_config(ops, server.url())
    rid = ready_to_switch(repo, config, url)
    evidence = evidence_for(url, repo, ops / "evidence.json")
    with pytest.raises(GateRefused, match=r"pre-switch check failed: webhook secret missing: set "
                                          r"\$MIGRATOR_WEBHOOK_SECRET"):
        commands.switch(ctx_for(repo, config, url, evidence=evidence))
    command, result, detail = ledger_rows(url, rid)[-1]
    assert (command, result) == ("switch", "refused")
    assert "webhook secret missing: set $MIGRATOR_WEBHOOK_SECRET" in detail
    with pytest.raises(HookFailed, match=r"webhook secret missing"):
        commands.switch(ctx_for(repo, config, url, evidence=evidence, force=True, reason="INC-8"))
    assert state_of(url, rid) == ("switching", "blue")  # no router confirmed where traffic is
    assert [(c, r) for c, r, _ in ledger_rows(url, rid)][-3:] == [
        ("switch", "started"), ("switch", "failed"), ("rollback", "failed")]
    assert server.requests == []  # not a single unsigned request left migrator
    # with the secret back, the same release asks the router (blue: the switch did not happen) and switches
    monkeypatch.setenv(ENV, SECRET)
    assert commands.switch(ctx_for(repo, config, url, evidence=evidence))["state"] == "switched"
    assert server.actions()[0] == "current" and all(signed_by(r) for r in server.requests)
    assert [(c, r) for c, r, _ in ledger_rows(url, rid)][-3:] == [
        ("switch", "reconciled"), ("switch", "started"), ("switch", "succeeded")]
