"""The switch and contract gates against the real server: a throwaway database with the ledger, the live schema
fingerprint, a real command hook (a script that keeps the live colour in a file), real sessions in
pg_stat_activity. Fail closed: every test that does not set everything up right sees a refusal.

The database is created with a unique name and dropped at the end (WITH (FORCE)); nothing is left behind."""

from __future__ import annotations

import itertools
import os
import secrets
import socket
import stat

import psycopg
import pytest

from migrator.compat.fingerprint import schema_fingerprint
from migrator.hooks import CommandHook
from migrator.release.errors import GateRefused
from migrator.release.gates import GateResult, contract_gate, switch_gate
from migrator.release.ledger import Ledger, Release

SERVER_URL = os.environ.get("MIGRATOR_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = f"mggate{secrets.token_hex(4)}"
BLUE_SHA, GREEN_SHA = "b1" * 20, "9e" * 20


def _reachable(url: str) -> bool:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    try:
        with socket.create_connection((u.host or "127.0.0.1", u.port or 5432), timeout=1):
            return True
    except OSError:
        return False


pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not _reachable(SERVER_URL), reason=f"no PostgreSQL server at {SERVER_URL}")]


def _db_url(name: str) -> str:
    return SERVER_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="module")
def db_url():
    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{DB}"')
    try:
        url = _db_url(DB)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text)")
        yield url
    finally:
        with psycopg.connect(SERVER_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


@pytest.fixture
def conn(db_url):
    with psycopg.connect(db_url, autocommit=True) as c:
        yield c


_n = itertools.count()


@pytest.fixture
def ledger(conn):
    """A fresh ledger schema per test (one in-flight release per ledger)."""
    led = Ledger(conn, schema=f"ledger_{next(_n)}_{secrets.token_hex(2)}")
    led.ensure()
    return led


ROUTER = """\
#!/bin/sh
d="$(dirname "$0")"
cat > "$d/last-$BG_ACTION.json"
case "$BG_ACTION" in
  switch|rollback) printf %s "$BG_TO" > "$d/color"; exit 0 ;;
  verify|current) c=$(cat "$d/color" 2>/dev/null || echo blue)
                  printf '{"observed": {"active_color": "%s"}}' "$c"; exit 0 ;;
  gate) cat "$d/gate.json" 2>/dev/null; exit $(cat "$d/gate.exit" 2>/dev/null || echo 0) ;;
esac
exit 1
"""


@pytest.fixture
def hook(tmp_path):
    path = tmp_path / "router.sh"
    path.write_text(ROUTER)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return CommandHook([str(path)], timeout=10)


def release(ledger: Ledger, state: str = "migrated", **kw) -> Release:
    ledger.create_release(Release(id=f"r-{secrets.token_hex(3)}", state="planned", blue_sha=BLUE_SHA,
                                  green_sha=GREEN_SHA, **kw))
    rel = ledger.latest()
    if state != "planned":
        ledger.set_state(rel.id, state, active_color="green" if state == "switched" else None)
    return ledger.get(rel.id)


def evidence(fingerprint: str, **kw) -> dict:
    data = {"version": 1, "kind": "migrator.compat", "result": "pass", "reason": None,
            "blue": {"ref": "main", "sha": BLUE_SHA}, "green": {"ref": "feature", "sha": GREEN_SHA, "dirty": False},
            "schema_fingerprint": fingerprint, "revisions": {"expand": ["0002"]}}
    data.update(kw)
    return data


def statuses(result: GateResult) -> dict:
    return {c.name: c.status for c in result.checks}


# -- switch gate -------------------------------------------------------------------------------------------------
def test_switch_gate_passes_with_matching_evidence_and_a_willing_router(conn, ledger, hook, db_url, tmp_path):
    import json

    live = schema_fingerprint(db_url)
    rel = release(ledger)
    result = switch_gate(conn, rel, evidence(live), live, hook)
    assert result.passed and result.reasons == [] and result.gate == "switch"
    assert statuses(result) == {"evidence": "pass", "fingerprint": "pass", "release": "pass", "router": "pass"}
    result.raise_if_refused()
    sent = json.loads((tmp_path / "last-gate.json").read_text())
    assert (sent["phase"], sent["action"], sent["from_color"], sent["to_color"]) == ("pre-switch", "gate", "blue",
                                                                                    "green")
    assert sent["release_id"] == rel.id and sent["idempotency_key"] == f"{rel.id}:pre-switch:gate:green"
    assert sent["evidence"]["schema_fingerprint"] == live and sent["evidence"]["green_sha"] == GREEN_SHA
    # short shas in the evidence are the same commits
    assert switch_gate(conn, rel, evidence(live, blue={"sha": BLUE_SHA[:10]}), live, hook).passed


def test_switch_gate_refuses_evidence_for_another_schema_or_release(conn, ledger, hook, db_url):
    live = schema_fingerprint(db_url)
    rel = release(ledger)
    made_before = live
    conn.execute("ALTER TABLE users ADD COLUMN nickname text")  # the live schema moved on
    try:
        now = schema_fingerprint(db_url)
        assert now != made_before
        result = switch_gate(conn, rel, evidence(made_before), now, hook)
        assert not result.passed and statuses(result)["fingerprint"] == "fail"
        assert "rerun `migrator compat`" in result.reasons[0]
    finally:
        conn.execute("ALTER TABLE users DROP COLUMN nickname")

    other = evidence(live, green={"sha": "ab" * 20, "dirty": False})
    result = switch_gate(conn, rel, other, live, hook)
    assert statuses(result)["release"] == "fail"
    assert "evidence green is abababababab" in result.reasons[0] and "another release" in result.reasons[0]
    dirty = evidence(live, green={"sha": GREEN_SHA, "dirty": True})
    assert "uncommitted changes" in " ".join(switch_gate(conn, rel, dirty, live, hook).reasons)
    assert not switch_gate(conn, rel, evidence(live, blue={"sha": "b1b1b1"}), live, hook).passed  # too short

    failed = evidence(live, result="fail", reason="blue's suite failed: 3 tests")
    result = switch_gate(conn, rel, failed, live, hook)
    assert result.reasons == ["evidence: compat evidence result is 'fail', not 'pass' (blue's suite failed: 3 tests)"]
    with pytest.raises(GateRefused) as info:
        result.raise_if_refused()
    assert info.value.exit_code == 1 and str(info.value).startswith("switch gate refused: evidence:")

    result = switch_gate(conn, rel, None, live, hook)
    assert {"evidence", "fingerprint", "release"} <= {c.name for c in result.checks if c.status == "fail"}


def test_switch_gate_router_check_must_succeed(conn, ledger, hook, db_url, tmp_path):
    live = schema_fingerprint(db_url)
    rel = release(ledger)
    (tmp_path / "gate.json").write_text('{"message": "green has 0 healthy pods", "retry_after_s": 30}')
    (tmp_path / "gate.exit").write_text("75")
    result = switch_gate(conn, rel, evidence(live), live, hook)
    assert not result.passed and result.pending  # pending is a refusal, whatever the time
    assert result.reasons == ["router: command router.sh pre-switch check is in_progress: green has 0 healthy pods "
                              "(a pending check is a refusal)"]
    (tmp_path / "gate.exit").write_text("1")
    (tmp_path / "gate.json").write_text('{"message": "error budget exhausted"}')
    result = switch_gate(conn, rel, evidence(live), live, hook)
    assert not result.pending and "pre-switch check failed: error budget exhausted" in result.reasons[0]
    (tmp_path / "gate.exit").write_text("0")
    (tmp_path / "gate.json").write_text("garbage")
    assert "not a bg-hook/v1 response" in switch_gate(conn, rel, evidence(live), live, hook).reasons[0]
    (tmp_path / "gate.json").write_text("")
    assert switch_gate(conn, rel, evidence(live), live, hook).passed

    assert switch_gate(conn, rel, evidence(live), live, None).reasons == [
        "router: no router hook configured ([tool.migrator.hook])"]
    slow = CommandHook(["sleep", "30"], timeout=0.3)
    assert "timed out" in switch_gate(conn, rel, evidence(live), live, slow).reasons[0]


# -- contract gate -----------------------------------------------------------------------------------------------
def _switch(ledger: Ledger, hook, rel: Release) -> Release:
    from migrator.hooks import move_traffic

    move_traffic(hook, rel.id, "green", "blue", "switch", {}, 10)
    ledger.event(rel.id, "switch", "ok")
    ledger.set_state(rel.id, "switched", active_color="green")
    return ledger.get(rel.id)


def test_contract_gate_passes_after_soak_on_green(conn, ledger, hook):
    rel = _switch(ledger, hook, release(ledger))
    result = contract_gate(conn, rel, ledger, hook, 0, None)
    assert result.passed, result.reasons
    assert statuses(result) == {"traffic": "pass", "soak": "pass", "rollback": "pass", "blue sessions": "pass"}
    assert "not checked" in result.checks[-1].detail


def test_contract_gate_waits_for_the_soak_time(conn, ledger, hook):
    rel = _switch(ledger, hook, release(ledger))
    result = contract_gate(conn, rel, ledger, hook, 900, None)
    assert not result.passed and result.pending
    assert result.reasons[0].startswith("soak: ") and "of 15m soak on green elapsed" in result.reasons[0]
    assert "to go" in result.reasons[0]


def test_contract_gate_needs_the_router_on_green(conn, ledger, hook, tmp_path):
    rel = _switch(ledger, hook, release(ledger))
    (tmp_path / "color").write_text("blue")  # someone moved traffic back outside migrator
    result = contract_gate(conn, rel, ledger, hook, 0, None)
    assert not result.passed and not result.pending
    assert result.reasons == ["traffic: command router.sh traffic on green: the router serves blue, not green"]
    assert not contract_gate(conn, rel, ledger, None, 0, None).passed
    broken = CommandHook(["false"])
    assert "traffic on green failed" in contract_gate(conn, rel, ledger, broken, 0, None).reasons[0]


def test_contract_gate_refuses_after_a_rollback_until_switched_again(conn, ledger, hook):
    rel = _switch(ledger, hook, release(ledger))
    ledger.event(rel.id, "rollback", "refused", {"reason": "coordinator busy"})  # moved nothing
    assert contract_gate(conn, rel, ledger, hook, 0, None).passed

    ledger.event(rel.id, "rollback", "failed", {"stage": "verify"})  # may have moved traffic half-way
    result = contract_gate(conn, ledger.get(rel.id), ledger, hook, 0, None)
    assert statuses(result)["rollback"] == "fail" and "result 'failed'" in result.reasons[0]
    assert "finish it (`migrator rollback`) and switch to green again" in result.reasons[0]

    ledger.set_state(rel.id, "rolled_back", active_color="blue")
    rel = _switch(ledger, hook, ledger.get(rel.id))  # a new switch clears it
    assert rel.rolled_back_at < rel.switched_at
    assert contract_gate(conn, rel, ledger, hook, 0, None).passed

    never = Ledger(conn, ledger.schema + "_never")
    never.ensure()
    result = contract_gate(conn, release(never, "migrated"), never, hook, 0, None)
    assert {"soak": "fail", "rollback": "fail"}.items() <= statuses(result).items()
    assert "was never switched to green" in " ".join(result.reasons)


def test_contract_gate_waits_for_blue_sessions_to_leave(conn, ledger, hook, db_url):
    rel = _switch(ledger, hook, release(ledger))
    app = f"shop-blue-{secrets.token_hex(3)}"
    blue = psycopg.connect(db_url, autocommit=True, application_name=app)
    # the same name in another database is not a session of this database's blue
    elsewhere = psycopg.connect(SERVER_URL, autocommit=True, application_name=app)
    try:
        pid = blue.info.backend_pid
        result = contract_gate(conn, rel, ledger, hook, 0, app)
        assert not result.passed and result.pending
        assert result.reasons == [f"blue sessions: 1 session(s) of blue (application_name '{app}') still "
                                  f"connected: pid {pid} from 127.0.0.1"]
        assert not contract_gate(conn, rel, ledger, hook, 0, ["shop-blue-other", app]).passed
        assert contract_gate(conn, rel, ledger, hook, 0, "shop-blue-other").passed
    finally:
        blue.close()
        elsewhere.close()
    result = contract_gate(conn, rel, ledger, hook, 0, app)
    assert result.passed and f"no session with application_name '{app}'" in result.checks[-1].detail


def test_gate_result_dict():
    result = GateResult(False, ["soak: 1s of 15m"], "contract")
    assert result.to_dict() == {"gate": "contract", "passed": False, "reasons": ["soak: 1s of 15m"], "checks": []}
    assert not GateResult.of("contract", []).passed  # no checks: nothing proved
