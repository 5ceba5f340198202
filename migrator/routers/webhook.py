"""The `webhook` router hook: POST the bg-hook/v1 payload to one URL, signed with HMAC-SHA256.

    [tool.migrator.hook]
    kind = "webhook"
    url = "https://router.internal/bg-hook"   # every action goes to this one endpoint (the action is in the body)
    timeout = "10s"            # one HTTP attempt, connect to last byte of the answer
    deadline = "1h"            # one phase: retries and in-progress polls stop there
    poll_interval = "1s"       # between in-progress answers that give no retry_after_s
    secret_env = "MIGRATOR_WEBHOOK_SECRET"    # the NAME of the env var holding the shared secret
    headers = { "X-Team" = "shop" }           # optional extra request headers
    retry_backoff = { base = "250ms", max = "10s" }   # 5xx / transport errors: equal-jitter exponential backoff
    ca_file = "certs/router-ca.pem"           # optional CA bundle for https (relative to the project)
    targets = { blue = "...", green = "..." } # optional, passed through in the payload

Every request carries `X-Migrator-Timestamp: <unix seconds>` and `X-Migrator-Signature: sha256=<hex>`, the
HMAC-SHA256 with the secret of the bytes `<timestamp>.<body>`. The secret comes only from the environment; a
missing or empty one fails the call before any request is made.

Answers: 200/201 = succeeded (an optional body is a bg-hook/v1 response and its "status" speaks), 202 =
in_progress (ditto), other 2xx and 3xx = failed, 408/429/5xx and transport errors = retried until the deadline,
other 4xx = failed at once. A 2xx body that is not a valid response is a failure (fail closed).
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import http.client
import json
import logging
import os
import random
import re
import socket
import ssl
import threading
import time
from base64 import b64encode
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from migrator.durations import seconds_of
from migrator.errors import ConfigError
from migrator.routers.base import WHERE, OneCallRouter, check_keys, targets_of, timings
from migrator.routers.protocol import (
    DEFAULT_DEADLINE, DEFAULT_POLL_INTERVAL, FAILED, IN_PROGRESS, SUCCEEDED, HookPayload, HookResponse,
    ResponseError, deadline_at, utcnow)

log = logging.getLogger("migrator.routers.webhook")

DEFAULT_TIMEOUT = 10.0  # one HTTP attempt (Flagger's and Argo's default)
DEFAULT_SECRET_ENV = "MIGRATOR_WEBHOOK_SECRET"
DEFAULT_BACKOFF_BASE = 0.25
DEFAULT_BACKOFF_MAX = 10.0
MAX_BODY = 1 << 20  # bytes of an answer we read; a response is a small JSON object
MESSAGE_LIMIT = 200  # characters of a server's error text kept in a message
MIN_ATTEMPT = 0.1  # seconds: a retry with less time left before the deadline is not started

SIGNATURE_HEADER = "X-Migrator-Signature"
TIMESTAMP_HEADER = "X-Migrator-Timestamp"
# headers migrator sets itself; the `headers` table cannot replace them
RESERVED_HEADERS = {"host", "content-type", "content-length", "connection", "transfer-encoding", "user-agent",
                    SIGNATURE_HEADER.lower(), TIMESTAMP_HEADER.lower()}
RETRY_STATUSES = {408, 429}  # 4xx that mean "try again later"; every 5xx is retried as well
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def signature(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """The X-Migrator-Signature value: "sha256=" + hex HMAC-SHA256(secret, "<timestamp>." + body)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def redact_url(url: str) -> str:
    """The URL without credentials: a user/password becomes ***, a query string ?***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def _seconds(value, key: str) -> float:
    return seconds_of(value, key, WHERE)


@dataclass
class _Retry:
    """A try that may succeed when repeated (5xx, 408/429, a transport error)."""

    why: str
    retry_after: float | None = None


class WebhookHook(OneCallRouter):
    """A router hook that POSTs every call to `url` (see the module docstring and docs/hooks.md)."""

    kind = "webhook"
    KEYS = {"kind", "url", "timeout", "deadline", "poll_interval", "secret_env", "headers", "targets",
            "retry_backoff", "ca_file"}

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, deadline: float = DEFAULT_DEADLINE,
                 poll_interval: float = DEFAULT_POLL_INTERVAL, secret_env: str = DEFAULT_SECRET_ENV,
                 headers: dict | None = None, targets: dict | None = None, backoff_base: float = DEFAULT_BACKOFF_BASE,
                 backoff_max: float = DEFAULT_BACKOFF_MAX, ca_file=None, name: str | None = None, sleep=time.sleep):
        where = "[tool.migrator.hook]"
        if not isinstance(url, str) or not url.strip():
            raise ConfigError(f'{where}: kind = "webhook" needs url = "https://..."')
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"{where}: url {redact_url(url)!r} is not a valid URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}: url must be an http:// or https:// URL with a host, not {redact_url(url)!r}")
        if parts.fragment:
            raise ConfigError(f"{where}: url must not have a #fragment")
        if not isinstance(secret_env, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", secret_env):
            raise ConfigError(f"{where}: secret_env must be the name of an environment variable, e.g. "
                              f'"{DEFAULT_SECRET_ENV}"')
        for key, value in (("timeout", timeout), ("backoff base", backoff_base), ("backoff max", backoff_max)):
            if not value > 0:
                raise ConfigError(f"{where}: {key} must be > 0")
        self.url = url.strip()
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, port
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.url_secrets = [s for s in (unquote(parts.password or ""), parts.query) if s and len(s) >= 3]
        self.auth = None
        if parts.username is not None or parts.password is not None:
            raw = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
            self.auth = "Basic " + b64encode(raw.encode()).decode("ascii")
        self.headers = _check_headers(headers or {})
        if self.auth and any(k.lower() == "authorization" for k in self.headers):
            raise ConfigError(f"{where}: credentials in the url and an Authorization header: give one of them")
        self.timeout = float(timeout)
        self.deadline = float(deadline)
        self.poll_interval = float(poll_interval)
        self.secret_env = secret_env
        self.targets = dict(targets or {})
        self.backoff_base, self.backoff_max = float(backoff_base), float(backoff_max)
        self.ca_file = str(ca_file) if ca_file is not None else None
        self.name = name or f"webhook {redact_url(self.url)}"
        self.sleep = sleep
        self._random = random.Random()

    @classmethod
    def from_config(cls, config: dict, *, project_dir=None) -> "WebhookHook":
        where = WHERE
        if "secret" in config:
            raise ConfigError(f"{where}: secret must not be in the config file (it would end up in the repository "
                              f"and in every copy of it); put the shared secret in the environment variable "
                              f"${config.get('secret_env') or DEFAULT_SECRET_ENV} (secret_env names another one)")
        check_keys(config, cls.KEYS, "webhook")
        if "url" not in config:
            raise ConfigError(f'{where}: kind = "webhook" needs url = "https://..."')
        if not isinstance(config["url"], str):
            raise ConfigError(f"{where}: url must be a string")
        targets = targets_of(config)
        headers = config.get("headers") or {}
        if not isinstance(headers, dict):
            raise ConfigError(f"{where}: headers must be a table (name -> value)")
        kwargs: dict[str, Any] = timings(config)
        if "retry_backoff" in config:
            kwargs["backoff_base"], kwargs["backoff_max"] = _backoff(config["retry_backoff"])
        ca_file = config.get("ca_file")
        if ca_file is not None:
            if not isinstance(ca_file, str) or not ca_file:
                raise ConfigError(f"{where}: ca_file must be a path")
            path = Path(project_dir or ".") / ca_file
            if not path.is_file():
                raise ConfigError(f"{where}: ca_file {ca_file!r} not found ({path})")
            ca_file = path
        return cls(config["url"], secret_env=config.get("secret_env", DEFAULT_SECRET_ENV), headers=headers,
                   targets=targets, ca_file=ca_file, **kwargs)

    def call_router(self, payload: HookPayload) -> HookResponse:
        return self.post(payload)

    # -- one call: tries until an answer or the deadline -------------------------------------------
    def post(self, payload: HookPayload) -> HookResponse:
        """POST the payload; retry 5xx, 408, 429 and transport errors with jittered exponential backoff until the
        payload's deadline. Never raises: every problem is a failed response whose message holds no secret."""
        secret = os.environ.get(self.secret_env) or ""
        if not secret.strip():
            return HookResponse.failed(f"webhook secret missing: set ${self.secret_env}")
        if not payload.targets and self.targets:
            payload = replace(payload, targets=dict(self.targets))
        end = payload.deadline or deadline_at(self.deadline)
        body = payload.to_json().encode("utf-8")
        tries, why = 0, ""
        while True:
            remaining = (end - utcnow()).total_seconds()
            if remaining <= 0:
                if not tries:
                    return HookResponse.failed(f"{payload.action}: the deadline passed before the webhook could "
                                               "be called")
                return HookResponse.failed(f"{payload.action}: gave up at the deadline after {_tries(tries)}; "
                                           f"last: {why}")
            tries += 1
            attempt_timeout = min(self.timeout, remaining)
            try:
                outcome = self._attempt(payload, body, secret, attempt_timeout)
            except Exception as exc:  # a bug here must not open a gate
                outcome = HookResponse.failed(f"{payload.action}: {type(exc).__name__}: {exc}")
            if isinstance(outcome, HookResponse):
                if outcome.message:
                    outcome.message = self._scrub(outcome.message, secret)
                return outcome
            delay = self._backoff(tries, outcome.retry_after)
            remaining = (end - utcnow()).total_seconds()
            why = self._scrub(outcome.why, secret)
            if delay + min(self.timeout, MIN_ATTEMPT) > remaining:  # no time left for a real try
                return HookResponse.failed(f"{payload.action}: gave up at the deadline after {_tries(tries)}; "
                                           f"last: {why}")
            log.info("%s: %s try %d: %s; retrying in %.2fs", self.name, payload.action, tries, why, delay)
            self.sleep(delay)

    def _backoff(self, tries: int, retry_after: float | None) -> float:
        """Equal jitter: uniform(d/2, d) with d = min(max, base * 2**(tries-1)); at least the server's Retry-After."""
        d = min(self.backoff_max, self.backoff_base * (2 ** min(tries - 1, 30)))
        delay = d / 2 + self._random.uniform(0, d / 2)
        return max(delay, retry_after or 0.0)

    def _scrub(self, text: str, secret: str) -> str:
        for value in (secret, *self.url_secrets):
            if value:
                text = text.replace(value, "***")
        return text

    def request_headers(self, body: bytes, secret: str, timestamp: str | None = None) -> dict[str, str]:
        from migrator import __version__ as version

        timestamp = timestamp or str(int(time.time()))
        headers = {**self.headers,
                   "Content-Type": "application/json",
                   "User-Agent": f"migrator/{version} (bg-hook/v1)",
                   "Connection": "close",
                   TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: signature(secret, timestamp, body)}
        if self.auth:
            headers["Authorization"] = self.auth
        return headers

    def _connection(self, timeout: float):
        if self.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def _attempt(self, payload: HookPayload, body: bytes, secret: str, timeout: float):
        """One HTTP exchange within `timeout` seconds in total: a HookResponse (final) or a _Retry."""
        conn = self._connection(timeout)
        expired = threading.Event()

        def expire():  # the per-attempt bound covers the whole exchange, also an answer that trickles in
            expired.set()
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timed_out = f"no answer within {round(timeout, 3):g}s"
        timer.start()
        try:
            conn.request("POST", self.target, body=body, headers=self.request_headers(body, secret))
            answer = conn.getresponse()
            status, reason = answer.status, answer.reason
            retry_after = _retry_after(answer.getheader("Retry-After"))
            location = answer.getheader("Location")
            declared = answer.length  # Content-Length, None when chunked or read-until-close
            if declared is not None and declared > MAX_BODY:
                return HookResponse.failed(f"{payload.action}: HTTP {status}: answer of {declared} bytes is too "
                                           f"large (a response is one small JSON object)")
            data = bytearray()
            while len(data) <= MAX_BODY:
                chunk = answer.read(65536)
                if not chunk:
                    break
                data.extend(chunk)
            if expired.is_set():
                return _Retry(timed_out)
            if len(data) > MAX_BODY:
                return HookResponse.failed(f"{payload.action}: HTTP {status}: answer larger than {MAX_BODY} bytes")
            if declared is not None and len(data) < declared:
                return _Retry(f"HTTP {status}: connection closed after {len(data)} of {declared} bytes")
        except ssl.SSLCertVerificationError as exc:
            return HookResponse.failed(f"{payload.action}: TLS certificate not trusted: {exc.verify_message or exc}"
                                       " (set ca_file for a private CA)")
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set() or isinstance(exc, (TimeoutError, socket.timeout)):
                return _Retry(timed_out)
            return _Retry(_transport_text(exc))
        finally:
            timer.cancel()
            conn.close()
        return self._interpret(payload, status, reason, bytes(data), retry_after, location)

    def _interpret(self, payload: HookPayload, status: int, reason: str, data: bytes, retry_after: float | None,
                   location: str | None):
        action = payload.action
        if status >= 500 or status in RETRY_STATUSES:
            return _Retry(f"HTTP {status} {reason}".rstrip() + _server_text(data), retry_after)
        if 400 <= status < 500:
            return HookResponse.failed(f"{action}: HTTP {status} {reason}".rstrip() + _server_text(data))
        if 300 <= status < 400:
            where = f" to {redact_url(location)}" if location else ""
            return HookResponse.failed(f"{action}: HTTP {status} redirect{where} not followed: configure the final "
                                       "URL")
        if status not in (200, 201, 202):
            return HookResponse.failed(f"{action}: unexpected HTTP {status} {reason}".rstrip()
                                       + ": answer 200 (done), 202 (in progress), 4xx (failed) or 5xx (retry)")
        default = IN_PROGRESS if status == 202 else SUCCEEDED
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return HookResponse.failed(f"{action}: HTTP {status} but the body is not UTF-8 JSON: "
                                       f"{_short(data.decode('utf-8', 'replace'))!r}")
        if not text.strip():
            response = HookResponse(default)
        else:
            try:
                response = HookResponse.from_dict(json.loads(text), default_status=default)
            except (ValueError, ResponseError) as exc:
                return HookResponse.failed(f"{action}: HTTP {status} but the body is not a bg-hook/v1 response "
                                           f"({_short(exc)}): {_short(text)!r}")
        if response.status == IN_PROGRESS and response.retry_after_s is None and retry_after is not None:
            response.retry_after_s = retry_after
        if response.status == FAILED and not response.message:
            response.message = f"{action}: the webhook answered HTTP {status} with status failed"
        return response


def _check_headers(headers: dict) -> dict[str, str]:
    where = "[tool.migrator.hook] headers"
    out = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ConfigError(f"{where}: {name!r} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise ConfigError(f"{where}: {name} is set by migrator and cannot be replaced")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise ConfigError(f"{where}: the value of {name} must be a one-line string")
        out[name] = value
    return out


def _backoff(value) -> tuple[float, float]:
    if isinstance(value, dict):
        unknown = set(value) - {"base", "max"}
        if unknown:
            raise ConfigError(f"[tool.migrator.hook]: retry_backoff: unknown key(s) {', '.join(sorted(unknown))} "
                              "(base, max)")
        base = _seconds(value.get("base", DEFAULT_BACKOFF_BASE), "retry_backoff.base")
        top = _seconds(value.get("max", max(DEFAULT_BACKOFF_MAX, base)), "retry_backoff.max")
    else:
        base = _seconds(value, "retry_backoff")
        top = max(DEFAULT_BACKOFF_MAX, base)
    if base <= 0 or top < base:
        raise ConfigError("[tool.migrator.hook]: retry_backoff needs 0 < base <= max")
    return base, top


def _retry_after(value: str | None) -> float | None:
    """Retry-After: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _transport_text(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host ({exc.strerror or exc})"
    if isinstance(exc, http.client.HTTPException):
        return f"invalid HTTP answer ({type(exc).__name__}: {_short(exc)})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return f"{type(exc).__name__}: {_short(exc)}"


def _server_text(data: bytes) -> str:
    """The server's explanation from an error answer: the "message" of a JSON body, else the text; one line."""
    text = data.decode("utf-8", "replace").strip()
    if not text:
        return ""
    try:
        decoded = json.loads(text)
        if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
            text = decoded["message"]
    except ValueError:
        pass
    return ": " + _short(" ".join(text.split()))


def _tries(n: int) -> str:
    return f"{n} try" if n == 1 else f"{n} tries"


def _short(value, limit: int = MESSAGE_LIMIT) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
