"""The example hooks of docs/hooks.md, as shipped: extracted from the page and run as real programs.

- the webhook receiver runs as its own process (`python router_webhook.py`) and gets real signed HTTP
  requests: migrator's own calls work, a replayed signed `rollback` is refused, a non-ASCII signature header
  is a 401, not a crash (D15);
- the command hook is run as written; when its state file cannot be written it must fail, not answer
  `succeeded` (a bug a new user hit)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import re
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migrator.routers import CommandHook, HookPayload, get_hook, move_traffic, rollback_traffic
from migrator.release.errors import HookFailed

DOCS = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
SECRET = "wh-example-5e1c0f"


def docs_example(tag: str) -> str:
    after = DOCS.read_text().split(f"<!-- example: {tag} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


# --- the webhook receiver ---------------------------------------------------------------------------------------


@pytest.fixture
def receiver(tmp_path):
    """The documented receiver, started as its own process on a free port; yields the port."""
    path = tmp_path / "router_webhook.py"
    path.write_text(docs_example("webhook-receiver"))
    env = dict(os.environ, MIGRATOR_WEBHOOK_SECRET=SECRET, ROUTER_PORT="0", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(path)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stderr], [], [], 15)
        line = proc.stderr.readline() if ready else ""
        found = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert found, f"the receiver did not say where it listens: {line!r}"
        yield int(found.group(1)), proc
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()


def _sign(body: bytes, timestamp: int) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def _post(port: int, body: bytes, headers: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("POST", "/bg-hook")
        for key, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}.items():
            conn.putheader(key, value)
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else {})
    finally:
        conn.close()


def _payload(action: str, to_color: str, release: str = "r-7") -> bytes:
    payload = HookPayload(release, "rollback" if action == "rollback" else "switch", action,
                          from_color="green" if to_color == "blue" else "blue", to_color=to_color)
    return payload.to_json().encode()


def _current(port: int) -> str:
    body = HookPayload(None, "current", "current").to_json().encode()
    now = int(time.time())
    code, data = _post(port, body, {"X-Migrator-Timestamp": str(now), "X-Migrator-Signature": _sign(body, now)})
    assert code == 200, data
    return data["observed"]["active_color"]


def test_documented_receiver_works_with_migrator(receiver, monkeypatch):
    port, _ = receiver
    monkeypatch.setenv("MIGRATOR_WEBHOOK_SECRET", SECRET)
    hook = get_hook({"kind": "webhook", "url": f"http://127.0.0.1:{port}/bg-hook", "timeout": "2s",
                     "poll_interval": "50ms"})
    assert hook.current() == "blue"
    assert move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10).observed_color == "green"
    assert move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10).observed_color == "green"  # a repeat
    assert rollback_traffic(hook, "r-1", deadline=10, reason="p99").observed_color == "blue"
    time.sleep(1.05)  # a second switch of the same release, later: same idempotency key, a newer timestamp
    assert move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10).observed_color == "green"


def test_replayed_signed_rollback_is_refused(receiver):
    port, _ = receiver
    rollback = _payload("rollback", "blue")
    captured_at = int(time.time())
    captured = {"X-Migrator-Timestamp": str(captured_at), "X-Migrator-Signature": _sign(rollback, captured_at)}
    assert _post(port, rollback, captured)[0] == 200  # the real rollback
    switch = _payload("switch", "green")
    for _ in range(2):  # green again; the same call delivered twice is harmless
        now = int(time.time())
        code, data = _post(port, switch, {"X-Migrator-Timestamp": str(now), "X-Migrator-Signature": _sign(switch, now)})
        assert code == 200 and data["observed"]["active_color"] == "green", data
    # an attacker replays the captured rollback, byte for byte, well inside the 5-minute window
    code, data = _post(port, rollback, captured)
    assert code == 409, data
    assert data["status"] == "failed" and "replay" in data["message"]
    assert _current(port) == "green"


def test_non_ascii_signature_is_a_401_not_a_crash(receiver):
    port, proc = receiver
    body = _payload("switch", "green")
    now = int(time.time())
    for bad in ("sha256=\u00e9" + "0" * 63, "sha256=\u00ff", "\u00e9"):
        code, data = _post(port, body, {"X-Migrator-Timestamp": str(now), "X-Migrator-Signature": bad})
        assert code == 401 and data["message"] == "bad signature"
    code, _ = _post(port, body, {"X-Migrator-Timestamp": "\u00b2\u00b3", "X-Migrator-Signature": _sign(body, now)})
    assert code == 401
    assert proc.poll() is None
    assert _current(port) == "blue"  # nothing moved


# --- the command hook -------------------------------------------------------------------------------------------


def _router_script(tmp_path: Path) -> Path:
    path = tmp_path / "router.sh"
    path.write_text(docs_example("command-hook"))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_documented_command_hook_fails_when_its_state_cannot_be_written(tmp_path, monkeypatch):
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    monkeypatch.setenv("ROUTER_STATE", str(state_dir / "live-color"))
    hook = CommandHook([str(_router_script(tmp_path))], poll_interval=0.05, env=["ROUTER_STATE"])
    state_dir.chmod(0o500)  # read-only: the temp file cannot be created
    try:
        if os.access(state_dir, os.W_OK):
            pytest.skip("running as a user that can write anywhere (root)")
        response = hook.switch(HookPayload("r-1", "switch", "switch", from_color="blue", to_color="green"))
        assert response.status == "failed", response
        with pytest.raises(HookFailed):
            move_traffic(hook, "r-1", "green", "blue", "switch", {}, 2)
    finally:
        state_dir.chmod(0o700)
    assert not (state_dir / "live-color").exists()


def test_documented_command_hook_fails_when_the_state_folder_is_missing(tmp_path, monkeypatch):
    """`printf ... > "$tmp" && mv ...` under `set -e` went on after the failed write and answered succeeded."""
    monkeypatch.setenv("ROUTER_STATE", str(tmp_path / "no-such-folder" / "live-color"))
    hook = CommandHook([str(_router_script(tmp_path))], poll_interval=0.05, env=["ROUTER_STATE"])
    response = hook.switch(HookPayload("r-1", "switch", "switch", from_color="blue", to_color="green"))
    assert response.status == "failed", response
    assert "cannot write" in (response.message or "")
    with pytest.raises(HookFailed, match="failed at switch"):
        move_traffic(hook, "r-1", "green", "blue", "switch", {}, 2)


def test_documented_command_hook_fails_when_the_state_path_is_a_directory(tmp_path, monkeypatch):
    state = tmp_path / "live-color"
    state.mkdir()  # `mv tmp state` moves the file into it: the colour is not written
    monkeypatch.setenv("ROUTER_STATE", str(state))
    hook = CommandHook([str(_router_script(tmp_path))], poll_interval=0.05, env=["ROUTER_STATE"])
    response = hook.switch(HookPayload("r-1", "switch", "switch", from_color="blue", to_color="green"))
    assert response.status == "failed", response
