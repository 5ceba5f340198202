"""The `command` router hook and move_traffic with real processes: temp scripts that exit 0 / 75 / 1, hang with an
orphaned child, print garbage; the payload on stdin and the BG_* env vars; the `migrator.routers` registry with a
real entry point (a dist-info directory on sys.path). No mocks: every hook call runs a real program."""

from __future__ import annotations

import json
import stat
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from migrator.errors import ConfigError
from migrator.routers import (
    CommandHook, HookPayload, HookResponse, RouterHook, get_hook, load_hook, move_traffic, rollback_traffic,
    router_kinds)
from migrator.release.errors import HookFailed


def script(tmp_path: Path, body: str, name: str = "hook.sh") -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body).lstrip())
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def payload(action="switch", **kw) -> HookPayload:
    base = dict(release_id="r-42", phase="switch", action=action, from_color="blue", to_color="green",
                deadline=datetime.now(timezone.utc) + timedelta(seconds=30), evidence={"result": "pass"})
    base.update(kw)
    return HookPayload(**base)


# the router most tests use: switch/rollback write the colour to a file, verify/current report it
ROUTER = """
    d="$(dirname "$0")"
    echo "$BG_ACTION $BG_PHASE $BG_TO $BG_ATTEMPT $BG_IDEMPOTENCY_KEY" >> "$d/calls.log"
    cat > "$d/last-$BG_ACTION.json"
    case "$BG_ACTION" in
      switch|rollback) printf %s "$BG_TO" > "$d/color"; exit 0 ;;
      verify|current) c=$(cat "$d/color" 2>/dev/null || echo blue)
                      printf '{"observed": {"active_color": "%s"}}' "$c"; exit 0 ;;
    esac
    exit 1
"""


def calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls.log").read_text().splitlines()


# -- one attempt ------------------------------------------------------------------------------------------------
def test_exit_0_with_payload_on_stdin_and_env(tmp_path):
    hook = CommandHook([str(script(tmp_path, """
        cat > "$(dirname "$0")/stdin.json"
        env | grep '^BG_' | sort > "$(dirname "$0")/env.txt"
        exit 0
    """))])
    p = payload(reason="because", metadata={"ticket": "OPS-1"})
    response = hook.switch(p)
    assert response.status == "succeeded" and response.ok and response.message is None

    sent = json.loads((tmp_path / "stdin.json").read_text())
    assert sent["schema"] == "bg-hook/v1"
    assert sent["idempotency_key"] == "r-42:switch:switch:green"
    assert (sent["release_id"], sent["phase"], sent["action"]) == ("r-42", "switch", "switch")
    assert (sent["from_color"], sent["to_color"], sent["attempt"], sent["dry_run"]) == ("blue", "green", 1, False)
    assert sent["deadline"].endswith("Z") and datetime.fromisoformat(sent["deadline"].replace("Z", "+00:00"))
    assert sent["reason"] == "because" and sent["evidence"] == {"result": "pass"}
    assert sent["metadata"] == {"ticket": "OPS-1"}

    env = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines())
    assert env["BG_RELEASE_ID"] == "r-42" and env["BG_PHASE"] == "switch" and env["BG_ACTION"] == "switch"
    assert env["BG_FROM"] == "blue" and env["BG_TO"] == "green"
    assert env["BG_IDEMPOTENCY_KEY"] == "r-42:switch:switch:green"
    assert env["BG_DEADLINE"] == sent["deadline"] and env["BG_ATTEMPT"] == "1"


def test_exit_codes_and_response_on_stdout(tmp_path):
    def run(body):
        return CommandHook([str(script(tmp_path, body))]).verify(payload("verify"))

    r = run('echo \'{"status": "succeeded", "message": "ok", "observed": {"active_color": "green"}}\'\n')
    assert (r.status, r.message, r.observed_color) == ("succeeded", "ok", "green")
    r = run('echo \'{"retry_after_s": 2.5, "message": "draining"}\'; exit 75\n')
    assert (r.status, r.retry_after_s, r.message) == ("in_progress", 2.5, "draining")
    r = run("echo 'nginx -t failed' >&2; exit 1\n")
    assert r.status == "failed" and "exited with 1" in r.message
    r = run('echo \'{"status": "failed", "message": "upstream green has no healthy server"}\'; exit 3\n')
    assert (r.status, r.message) == ("failed", "upstream green has no healthy server")
    # the more cautious of exit code and stdout status wins
    assert run('echo \'{"status": "in_progress"}\'\n').status == "in_progress"
    assert run('echo \'{"status": "succeeded"}\'; exit 75\n').status == "in_progress"
    assert run('echo \'{"status": "failed"}\'\n').status == "failed"
    assert run('echo \'{"status": "inconclusive"}\'\n').status == "inconclusive"
    assert run('echo \'{"status": "succeeded"}\'; exit 2\n').status == "failed"
    assert run("kill -9 $$\n").message.endswith("was killed by SIGKILL")


@pytest.mark.parametrize("stdout", [
    "switched to green",                                    # a log line on stdout
    "{not json",
    "[1, 2]",
    '{"status": "done"}',
    '{"observed": {"active_color": "purple"}}',
    '{"retry_after_s": -1}',
    '{"message": 42}',
])
def test_bad_stdout_is_a_failure_even_with_exit_0(tmp_path, stdout):
    hook = CommandHook([str(script(tmp_path, f"cat <<'EOF'\n{stdout}\nEOF\nexit 0\n"))])
    response = hook.switch(payload())
    assert response.status == "failed"
    assert "not a bg-hook/v1 response" in response.message and "log to stderr" in response.message


def test_stderr_goes_to_our_stderr(tmp_path, capfd):
    hook = CommandHook([str(script(tmp_path, "echo 'router: moving to '$BG_TO >&2\nexit 0\n"))])
    assert hook.switch(payload()).ok
    assert "router: moving to green" in capfd.readouterr().err


def test_timeout_kills_the_whole_process_group(tmp_path):
    hook = CommandHook([str(script(tmp_path, """
        (sleep 30; touch "$(dirname "$0")/orphan-survived") &
        echo $! > "$(dirname "$0")/child.pid"
        sleep 30
    """))], timeout=0.5)
    started = time.monotonic()
    response = hook.switch(payload())
    assert time.monotonic() - started < 3
    assert response.status == "failed" and "timed out after 0.5s" in response.message
    assert "process group killed" in response.message
    assert not _alive(int((tmp_path / "child.pid").read_text()))


def test_a_child_left_behind_after_exit_is_killed_and_does_not_hold_us(tmp_path):
    # the background child inherits stdout: without the group kill we would wait for it
    hook = CommandHook([str(script(tmp_path, """
        sleep 30 &
        echo $! > "$(dirname "$0")/child.pid"
        echo '{"observed": {"active_color": "green"}}'
        exit 0
    """))], timeout=20)
    started = time.monotonic()
    response = hook.verify(payload("verify"))
    assert time.monotonic() - started < 3
    assert response.ok and response.observed_color == "green"
    assert not _alive(int((tmp_path / "child.pid").read_text()))


def test_timeout_is_capped_by_the_deadline(tmp_path):
    hook = CommandHook([str(script(tmp_path, "sleep 30\n"))], timeout=300)
    started = time.monotonic()
    response = hook.switch(payload(deadline=datetime.now(timezone.utc) + timedelta(seconds=0.4)))
    assert response.status == "failed" and "timed out" in response.message
    assert time.monotonic() - started < 3
    response = hook.switch(payload(deadline=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert response.status == "failed" and "deadline passed" in response.message


def test_missing_program_and_hook_that_ignores_stdin(tmp_path):
    response = CommandHook([str(tmp_path / "nope.sh")]).switch(payload())
    assert response.status == "failed" and "cannot run" in response.message
    # a big payload to a hook that never reads stdin: no deadlock, no broken-pipe error
    hook = CommandHook([str(script(tmp_path, "exit 0\n"))])
    assert hook.switch(payload(evidence={"blob": "x" * 300_000})).ok


def test_current(tmp_path):
    hook = CommandHook([str(script(tmp_path, ROUTER))])
    assert hook.current() == "blue"
    (tmp_path / "color").write_text("green")
    assert hook.current() == "green"
    sent = json.loads((tmp_path / "last-current.json").read_text())
    assert sent["action"] == "current" and sent["release_id"] is None and sent["to_color"] is None
    assert isinstance(hook, RouterHook)
    assert CommandHook([str(script(tmp_path, "exit 1\n", "broken.sh"))]).current() is None


# -- move_traffic ------------------------------------------------------------------------------------------------
def test_switch_then_verify(tmp_path):
    hook = CommandHook([str(script(tmp_path, ROUTER))])
    response = move_traffic(hook, "r-42", "green", "blue", "switch", {"result": "pass"}, 30)
    assert response.ok and response.observed_color == "green"
    assert calls(tmp_path) == ["switch switch green 1 r-42:switch:switch:green",
                               "verify switch green 1 r-42:switch:verify:green"]
    assert [c["action"] for c in response.calls] == ["switch", "verify"]
    # idempotent: the same switch again sets the same state
    assert move_traffic(hook, "r-42", "green", "blue", "switch", None, 30).ok
    assert (tmp_path / "color").read_text() == "green"
    # a compat evidence file reaches the hook as its one summary: no paths, no failure details
    from tests._evidence import evidence

    summary = evidence(project_dir="home/ci/shop").summary()
    move_traffic(hook, "r-42", "green", "blue", "switch", summary, 30)
    sent = json.loads((tmp_path / "last-switch.json").read_text())["evidence"]
    assert sent == summary and sent["blue_sha"] == "b1" * 20 and sent["cells"][0]["passed"] == 7
    assert "home/ci/shop" not in json.dumps(sent) and "failures" not in sent


def test_in_progress_then_succeeded_polls_with_the_same_key(tmp_path):
    hook = CommandHook([str(script(tmp_path, """
        d="$(dirname "$0")"
        echo "$BG_ACTION $BG_ATTEMPT $BG_IDEMPOTENCY_KEY" >> "$d/calls.log"
        n=$(cat "$d/n-$BG_ACTION" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$d/n-$BG_ACTION"
        if [ "$BG_ACTION" = switch ]; then
          [ $n -lt 3 ] && { echo '{"retry_after_s": 0.05, "message": "reloading"}'; exit 75; }
          echo green > "$d/color"; exit 0
        fi
        # verify: the router needs two looks before it serves green
        [ $n -lt 2 ] && { echo '{"observed": {"active_color": "blue"}}'; exit 0; }
        echo '{"observed": {"active_color": "green"}}'
    """))], poll_interval=0.05)
    started = time.monotonic()
    response = move_traffic(hook, "r-7", "green", "blue", "switch", {}, 30)
    assert time.monotonic() - started < 5
    assert response.ok and response.observed_color == "green"
    assert calls(tmp_path) == ["switch 1 r-7:switch:switch:green", "switch 2 r-7:switch:switch:green",
                               "switch 3 r-7:switch:switch:green", "verify 1 r-7:switch:verify:green",
                               "verify 2 r-7:switch:verify:green"]
    assert [c["status"] for c in response.calls] == ["in_progress", "in_progress", "succeeded", "succeeded",
                                                     "succeeded"]
    assert response.calls[3]["observed"] == "blue"


def test_failed_switch_raises(tmp_path):
    hook = CommandHook([str(script(tmp_path, "echo '{\"message\": \"nginx -t failed\"}'; exit 1\n"))])
    with pytest.raises(HookFailed) as info:
        move_traffic(hook, "r-1", "green", "blue", "switch", {}, 30)
    err = info.value
    assert err.exit_code == 1 and err.stage == "switch" and err.switch_called
    assert "switch blue -> green failed at switch: nginx -t failed" in str(err)


def test_verify_that_never_confirms_fails_closed_at_the_deadline(tmp_path):
    hook = CommandHook([str(script(tmp_path, """
        [ "$BG_ACTION" = verify ] && echo '{"observed": {"active_color": "blue"}}'
        exit 0
    """))], poll_interval=0.1)
    started = time.monotonic()
    with pytest.raises(HookFailed) as info:
        move_traffic(hook, "r-1", "green", "blue", "switch", {}, 0.8)
    assert 0.6 < time.monotonic() - started < 4
    assert info.value.stage == "verify" and info.value.switch_called
    assert "before the router confirmed green; last observed colour: blue" in str(info.value)
    assert len(info.value.calls) >= 3


def test_hanging_verify_and_inconclusive(tmp_path):
    hook = CommandHook([str(script(tmp_path, '[ "$BG_ACTION" = verify ] && sleep 30\nexit 0\n'))], timeout=0.3)
    with pytest.raises(HookFailed, match="timed out"):
        move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10)
    hook = CommandHook([str(script(tmp_path, 'echo \'{"status": "inconclusive", "message": "error rate 2%"}\'\n',
                                   "inc.sh"))])
    with pytest.raises(HookFailed, match="inconclusive: a human has to decide .error rate 2%."):
        move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10)


def test_rollback_swaps_colours(tmp_path):
    hook = CommandHook([str(script(tmp_path, ROUTER))])
    move_traffic(hook, "r-9", "green", "blue", "switch", {}, 30)
    response = rollback_traffic(hook, "r-9", {"result": "pass"}, 30, reason="p99 up 3x", failed_phase="post-switch")
    assert response.ok and response.observed_color == "blue"
    assert (tmp_path / "color").read_text() == "blue"
    sent = json.loads((tmp_path / "last-rollback.json").read_text())
    assert (sent["action"], sent["phase"], sent["from_color"], sent["to_color"]) == ("rollback", "rollback",
                                                                                      "green", "blue")
    assert sent["idempotency_key"] == "r-9:rollback:rollback:blue"
    assert sent["reason"] == "p99 up 3x" and sent["metadata"] == {"failed_phase": "post-switch"}
    assert calls(tmp_path)[-1] == "verify rollback blue 1 r-9:rollback:verify:blue"


def test_dry_run_does_not_verify(tmp_path):
    hook = CommandHook([str(script(tmp_path, ROUTER))])
    response = move_traffic(hook, "r-1", "green", "blue", "switch", {}, 30, dry_run=True)
    assert response.ok and calls(tmp_path) == ["switch switch green 1 r-1:switch:switch:green"]
    assert json.loads((tmp_path / "last-switch.json").read_text())["dry_run"] is True


# -- registry ----------------------------------------------------------------------------------------------------
def test_get_hook_command_config(tmp_path):
    script(tmp_path, ROUTER, "router.sh")
    hook = get_hook({"kind": "command", "command": "./router.sh --env prod", "timeout": "2s", "deadline": "1m",
                     "poll_interval": "250ms", "targets": {"blue": "127.0.0.1:8081"}}, project_dir=tmp_path)
    assert isinstance(hook, CommandHook)
    assert hook.command == ["./router.sh", "--env", "prod"]
    assert (hook.timeout, hook.deadline, hook.poll_interval) == (2.0, 60.0, 0.25)
    assert move_traffic(hook, "r-1", "green", "blue", "switch", {}, None).ok  # relative to project_dir
    assert json.loads((tmp_path / "last-verify.json").read_text())["targets"] == {"blue": "127.0.0.1:8081"}

    (tmp_path / "pyproject.toml").write_text('[tool.migrator.hook]\nkind = "command"\ncommand = ["./router.sh"]\n')
    assert load_hook(tmp_path / "pyproject.toml").current() == "green"

    for bad, message in [({}, "no router hook configured"),
                         ({"kind": "carrier-pigeon"}, "unknown router kind 'carrier-pigeon'"),
                         ({"kind": "command"}, "needs command"),
                         ({"kind": "command", "command": "./r.sh", "timout": 3}, "unknown key"),
                         ({"kind": "command", "command": "./r.sh", "timeout": "soon"}, "timeout = 'soon'"),
                         ({"kind": "command", "command": []}, "non-empty")]:
        with pytest.raises(ConfigError, match=message):
            get_hook(bad, project_dir=tmp_path)
    assert router_kinds()["command"] == "builtin"


DOCS = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"


def docs_example(tag: str) -> str:
    """The code block after `<!-- example: TAG -->` in docs/hooks.md: the documented examples are the tested ones."""
    after = DOCS.read_text().split(f"<!-- example: {tag} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


PLUGIN = docs_example("python-router") + '''

class Exploding(FileRouter):
    def switch(self, payload):
        raise RuntimeError("router API down")


def not_a_router(config):
    return object()
'''


def test_the_documented_command_hook(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("ROUTER_STATE", str(tmp_path / "live-color"))
    hook = CommandHook([str(script(tmp_path, docs_example("command-hook").split("\n", 1)[1], "router.sh"))],
                       poll_interval=0.05, env=["ROUTER_STATE"])  # as documented: env = ["ROUTER_STATE"]
    assert hook.current() == "blue"
    assert hook.gate(payload("gate", phase="pre-switch")).message == "green is healthy"
    assert move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10, dry_run=True).message == \
        "would move blue -> green"
    r = hook.verify(payload("verify"))
    assert (r.status, r.retry_after_s, r.observed_color) == ("in_progress", 1.0, "blue")
    response = move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10)
    assert response.ok and response.message == "serving green" and hook.current() == "green"
    assert "router: blue -> green (r-1:switch:switch:green, attempt 1)" in capfd.readouterr().err
    assert move_traffic(hook, "r-1", "green", "blue", "switch", {}, 10).calls[0]["message"] == "already on green"
    assert rollback_traffic(hook, "r-1", deadline=10, reason="p99").observed_color == "blue"
    assert (tmp_path / "live-color").read_text() == "blue"


def test_third_party_router_through_the_entry_point_group(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "acme_router-1.0.dist-info").mkdir(parents=True)
    (site / "acme_router.py").write_text(PLUGIN)
    (site / "acme_router-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-router\n"
                                                                  "Version: 1.0\n")
    (site / "acme_router-1.0.dist-info" / "entry_points.txt").write_text(
        "[migrator.routers]\nfile = acme_router:FileRouter\nexploding = acme_router:Exploding\n"
        "bogus = acme_router:not_a_router\nbroken = acme_router_missing:Nope\n")
    monkeypatch.syspath_prepend(str(site))

    assert router_kinds()["file"] == "acme_router:FileRouter"
    with pytest.raises(ConfigError, match="rejected its configuration: ValueError: kind = \"file\" needs path"):
        get_hook({"kind": "file"}, project_dir=tmp_path)
    hook = get_hook({"kind": "file", "path": "live-colour"}, project_dir=tmp_path)
    assert isinstance(hook, RouterHook) and hook.name == "file"
    response = move_traffic(hook, "r-1", "green", "blue", "switch", {}, 5)
    assert response.ok and (tmp_path / "live-colour").read_text() == "green" and hook.current() == "green"
    assert rollback_traffic(hook, "r-1", deadline=5).observed_color == "blue"

    with pytest.raises(HookFailed, match="raised RuntimeError: router API down"):
        move_traffic(get_hook({"kind": "exploding", "path": "x"}, project_dir=tmp_path), "r-1", "green", "blue",
                     "switch", {}, 5)
    with pytest.raises(ConfigError, match="does not implement the router protocol"):
        get_hook({"kind": "bogus"})
    with pytest.raises(ConfigError, match="cannot load router plug-in 'broken'"):
        get_hook({"kind": "broken"})


def test_payload_and_response_validation():
    with pytest.raises(ValueError, match="unknown hook action"):
        payload("toggle")
    with pytest.raises(ValueError, match="to_color"):
        payload(to_color="purple")
    assert payload("gate", phase="pre-switch").idempotency_key == "r-42:pre-switch:gate:green"
    assert HookResponse.from_dict({"status": "succeeded"}).observed_color is None
    with pytest.raises(ValueError):
        move_traffic(CommandHook(["true"]), "r", "green", "green", "switch", {}, 1)


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie awaiting its reaper counts as dead)."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.05)
    return True


if sys.platform != "linux":  # start_new_session / killpg / waitid semantics are tested on Linux
    pytestmark = pytest.mark.skip("POSIX process groups")
