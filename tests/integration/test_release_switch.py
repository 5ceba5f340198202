"""An interrupted switch (D9) against the real PostgreSQL and real routers: the command hook of
tests/integration/test_release_commands.py (a script that keeps the live colour in a file) and nginx (tests/nginx_bed.py).

`migrator switch` journals its intent ('switching' to green) before the router is asked to move; killed after that
(SIGKILL: nothing runs), the next command asks the router's `current` and records where traffic is; `rollback` works
from any state in which traffic may be on green; SIGINT and SIGTERM send traffic back to blue before migrator exits;
every `started` event gets an outcome."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests._cli import migrator_command, run
from tests.integration.test_release_commands import (  # noqa: F401  (fixtures)
    colour, ctx_for, demo, demo_template, evidence_for, expand_for, hook_calls, query, state_of)

pytestmark = [pytest.mark.usefixtures("pg_server"), pytest.mark.slow]

# the command hook of test_release_commands.py, with knobs: a file slow-switch / slow-verify (seconds) makes the
# switch to green (after it wrote the colour) or the verify of green sleep, so a test can interrupt migrator there
SLOW_HOOK = r'''
import json, os, sys, time
from pathlib import Path

state = Path(sys.argv[1])
payload = json.load(sys.stdin)
with open(state.with_suffix(".log"), "a") as log:
    log.write(json.dumps({"payload": payload, "env": {}}) + "\n")
action = payload["action"]

def slow(name):
    knob = state.with_name("slow-" + name)
    if knob.exists() and payload.get("to_color") == "green":
        pid = state.with_name("hook.pid.new")  # renamed into place: never seen empty
        pid.write_text(str(os.getpid()))
        os.replace(pid, state.with_name("hook.pid"))
        time.sleep(float(knob.read_text()))

if action in ("switch", "rollback"):
    state.write_text(payload["to_color"])
    slow("switch")
if action == "verify":
    slow("verify")
current = state.read_text().strip() if state.exists() else "blue"
print(json.dumps({"status": "succeeded", "observed": {"active_color": current}}))
'''


def migrated(repo, config, url, ops) -> tuple[str, Path]:
    from migrator.release import commands

    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    (ops / "router.py").write_text(SLOW_HOOK, encoding="utf-8")
    return rid, evidence_for(url, repo, ops / "evidence.json")


def start(*args: str, cwd: Path, url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MIGRATOR_DEBUG"}
    env["MIGRATOR_DATABASE_URL"] = url
    return subprocess.Popen([*migrator_command(), *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def kill_hook(ops: Path) -> None:
    """The hook runs in a session of its own: a SIGKILLed migrator leaves it sleeping."""
    pid_file = ops / "hook.pid"
    if pid_file.exists():
        try:
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)
        except ProcessLookupError:
            pass


def events(url: str, rid: str) -> list[tuple]:
    return query(url, "SELECT command, result, state FROM migrator.events WHERE release_id = %s ORDER BY id", (rid,))


def every_start_has_an_outcome(trail: list[tuple]) -> None:
    open_step = None
    for command, result, _ in trail:
        if result == "started":
            assert open_step is None, f"{open_step} started and never ended: {trail}"
            open_step = command
        elif open_step == command and result != "started":
            open_step = None
    assert open_step is None, f"{open_step} started and never ended: {trail}"


def test_killed_after_the_router_moved_then_rollback(demo):
    """SIGKILL while the router already serves green: the ledger says 'switching' (not a silent blue); status says
    the router serves green; rollback reconciles (the switch did happen) and sends traffic back."""
    repo, config, ops, url, _ = demo
    rid, evidence = migrated(repo, config, url, ops)
    (ops / "slow-switch").write_text("60")
    proc = start("switch", "--to", "green", "--evidence", str(evidence), "--config", str(config), cwd=repo, url=url)
    try:
        wait_for(lambda: colour(ops) == "green" and (ops / "hook.pid").exists(), what="the router on green")
        proc.kill()
        proc.wait(10)
    finally:
        kill_hook(ops)
        (ops / "slow-switch").unlink()
    assert state_of(url, rid) == ("switching", "blue")
    status = run("status", "--config", str(config), cwd=repo, env={"MIGRATOR_DATABASE_URL": url})
    assert status.code == 0, status.err
    assert "WARNING: a switch to green was interrupted (from migrated); the router serves green" in status.out
    done = run("rollback", "--reason", "killed switch", "--config", str(config), cwd=repo,
               env={"MIGRATOR_DATABASE_URL": url})
    assert done.code == 0, done.err
    assert colour(ops) == "blue" and state_of(url, rid) == ("rolled_back", "blue")
    trail = events(url, rid)
    assert trail[-4:] == [("switch", "started", "switching"), ("switch", "reconciled", "switched"),
                          ("rollback", "started", "switching"), ("rollback", "succeeded", "rolled_back")]
    every_start_has_an_outcome(trail)


def test_killed_then_the_next_switch_reconciles_with_the_router(demo):
    """Killed mid-switch, then someone put blue back by hand: the next switch records that the switch did not
    happen (state back to migrated) and switches again; killed with the router on green, the next switch finds it
    done."""
    from migrator.release import commands

    repo, config, ops, url, _ = demo
    rid, evidence = migrated(repo, config, url, ops)
    for attempt in range(2):
        (ops / "slow-switch").write_text("60")
        proc = start("switch", "--to", "green", "--evidence", str(evidence), "--config", str(config), cwd=repo,
                     url=url)
        try:
            wait_for(lambda: colour(ops) == "green" and (ops / "hook.pid").exists(), what="the router on green")
            proc.kill()
            proc.wait(10)
        finally:
            kill_hook(ops)
            (ops / "slow-switch").unlink()
            (ops / "hook.pid").unlink()
        assert state_of(url, rid) == ("switching", "blue")
        if attempt == 0:
            (ops / "colour").write_text("blue")  # an operator moved traffic back by hand
            done = commands.switch(ctx_for(repo, config, url, evidence=evidence))
            assert done["result"] == "ok" and done["state"] == "switched"
            assert events(url, rid)[-4:] == [("switch", "started", "switching"), ("switch", "reconciled", "migrated"),
                                             ("switch", "started", "switching"), ("switch", "succeeded", "switched")]
            commands.rollback(ctx_for(repo, config, url, reason="again"))
        else:
            done = commands.switch(ctx_for(repo, config, url, evidence=evidence))
            assert done["result"] == "noop" and done["state"] == "switched" and colour(ops) == "green"
            assert events(url, rid)[-2:] == [("switch", "started", "switching"), ("switch", "reconciled", "switched")]
    assert commands.contract(ctx_for(repo, config, url))["state"] == "contracted"
    every_start_has_an_outcome(events(url, rid))


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_the_switch_sends_traffic_back(demo, signum, code):
    """SIGTERM / Ctrl-C while migrator waits for the router to confirm green: the hook call is stopped, traffic
    goes back to blue (confirmed), the switch is recorded as interrupted, exit 128 + signal."""
    repo, config, ops, url, _ = demo
    rid, evidence = migrated(repo, config, url, ops)
    (ops / "slow-verify").write_text("60")
    proc = start("switch", "--to", "green", "--evidence", str(evidence), "--config", str(config), cwd=repo, url=url)
    try:
        wait_for(lambda: colour(ops) == "green" and (ops / "hook.pid").exists(), what="the verify of green")
        hook_pid = int((ops / "hook.pid").read_text())
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        kill_hook(ops)
    assert proc.returncode == code, (out, err)
    name = signal.Signals(signum).name
    assert f"switch interrupted by {name}: traffic is back on blue (confirmed by the router hook)" in err, err
    assert "Traceback" not in err
    assert colour(ops) == "blue" and state_of(url, rid) == ("migrated", "blue")
    with pytest.raises(ProcessLookupError):
        os.kill(hook_pid, 0)  # the interrupted hook call was stopped with migrator's own work
    trail = events(url, rid)
    assert trail[-3:] == [("switch", "started", "switching"), ("switch", "interrupted", None),
                          ("rollback", "succeeded", "migrated")]
    every_start_has_an_outcome(trail)
    assert [c["payload"]["action"] for c in hook_calls(ops)][-2:] == ["rollback", "verify"]


# --- the same with nginx as the router ------------------------------------------------------------------------------


def nginx_bed_or_skip():
    from tests.nginx_bed import nginx_binary

    if nginx_binary() is None or sys.platform != "linux":
        pytest.skip("nginx is not installed (apt-get install nginx-light)")


def nginx_release(demo, tmp_path):
    from tests.nginx_bed import NginxBed

    repo, _, ops, url, _ = demo
    bed = NginxBed(tmp_path / "bed").start()
    config = ops / "nginx.toml"
    config.write_text('[tool.migrator]\npostgres_version = 15\n\n[tool.migrator.release]\nsoak = "0"\n'
                      'lock_timeout = "500ms"\nlock_retries = 3\n\n'
                      + bed.config_toml(settle="100ms", confirm_timeout="30s", deadline="60s", timeout="60s"))
    from migrator.release import commands

    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    return bed, config, rid, evidence_for(url, repo, ops / "evidence.json")


def slow_green_after_the_gate(bed) -> None:
    """Green answers its pre-switch check, then every request takes 3 s (longer than the router's probe timeout):
    nginx serves green, the router keeps confirming."""
    green = bed.apps["green"]
    seen = green.requests

    def watch():
        deadline = time.monotonic() + 30
        while green.requests == seen and time.monotonic() < deadline:
            time.sleep(0.005)
        green.delay = 3.0

    threading.Thread(target=watch, daemon=True).start()


def nginx_serves(bed, address: str) -> bool:
    return address in bed.upstream_file.read_text()


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_nginx_switch_interrupted_after_the_reload(demo, tmp_path, how):
    """nginx reloaded with green's servers, the router still confirming: SIGTERM sends traffic back to blue before
    migrator exits (143); SIGKILL leaves 'switching', and `migrator rollback` finds green live and sends it back."""
    nginx_bed_or_skip()
    repo, _, ops, url, _ = demo
    bed, config, rid, evidence = nginx_release(demo, tmp_path)
    try:
        green = bed.apps["green"]
        slow_green_after_the_gate(bed)
        proc = start("switch", "--to", "green", "--evidence", str(evidence), "--config", str(config), cwd=repo,
                     url=url)
        try:
            wait_for(lambda: nginx_serves(bed, green.address), what="nginx reloaded with green")
            time.sleep(0.3)
            if how == "SIGTERM":
                proc.send_signal(signal.SIGTERM)
            else:
                proc.kill()
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        green.delay = 0.0
        if how == "SIGTERM":
            assert proc.returncode == 143, (out, err)
            assert "switch interrupted by SIGTERM: traffic is back on blue" in err, err
            assert state_of(url, rid) == ("migrated", "blue")
            assert events(url, rid)[-3:] == [("switch", "started", "switching"), ("switch", "interrupted", None),
                                             ("rollback", "succeeded", "migrated")]
        else:
            assert state_of(url, rid) == ("switching", "blue")
            assert bed.colors(10) == {"green"}  # the ledger must not claim blue: nginx serves green
            done = run("rollback", "--reason", "killed switch", "--config", str(config), cwd=repo,
                       env={"MIGRATOR_DATABASE_URL": url})
            assert done.code == 0, done.err
            assert state_of(url, rid) == ("rolled_back", "blue")
            assert events(url, rid)[-3:] == [("switch", "reconciled", "switched"),
                                             ("rollback", "started", "switching"),
                                             ("rollback", "succeeded", "rolled_back")]
        assert bed.colors(20) == {"blue"}
        every_start_has_an_outcome(events(url, rid))
    finally:
        bed.stop()
