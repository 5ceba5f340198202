"""The switch and contract gates against the real server: a throwaway database with the ledger, the live schema
fingerprint, a real command hook (a script that keeps the live colour in a file), real sessions in
pg_stat_activity. Fail closed: every test that does not set everything up right sees a refusal.

The database is created with a unique name and dropped at the end (WITH (FORCE)); nothing is left behind."""

from __future__ import annotations

import itertools
import os
import secrets
import stat

import psycopg
import pytest

from migrator.db.fingerprint import schema_fingerprint
from migrator.evidence import Evidence, key_id
from migrator.routers import CommandHook
from migrator.release.errors import GateRefused
from migrator.release.gates import GateResult, Signing, contract_gate, expand_gate, switch_gate
from migrator.release.ledger import Ledger, Release
from tests._evidence import BLUE_SHA, EXPANDED_PRINT, GREEN_SHA, KEY, cell, changed, document
from tests import _server

SERVER_URL = _server.ADMIN_URL  # the test server (MIGRATOR_TEST_URL, tests/conftest.py)



pytestmark = pytest.mark.usefixtures("pg_server")


@pytest.fixture(scope="module")
def db_url(pg_server):
    with _server.throwaway("mggate_", later=True) as name:
        url = _server.url(name)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text)")
        yield url


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


def evidence(fingerprint: str, **kw) -> Evidence:
    """Passing evidence (every cell) whose expanded schema is `fingerprint`."""
    return Evidence.from_dict(document(expanded=fingerprint, **kw))


def statuses(result: GateResult) -> dict:
    return {c.name: c.status for c in result.checks}


# -- switch gate -------------------------------------------------------------------------------------------------
def test_switch_gate_passes_with_matching_evidence_and_a_willing_router(conn, ledger, hook, db_url, tmp_path):
    import json

    live = schema_fingerprint(db_url)
    rel = release(ledger)
    result = switch_gate(conn, rel, evidence(live), live, hook)
    assert result.passed and result.reasons == [] and result.gate == "switch"
    assert statuses(result) == {"evidence": "pass", "signature": "pass", "cells": "pass", "fingerprint": "pass",
                                "release": "pass", "router": "pass"}
    assert result.checks[2].detail == "blue/expanded 7 passed, green/expanded 7 passed"
    result.raise_if_refused()
    sent = json.loads((tmp_path / "last-gate.json").read_text())
    assert (sent["phase"], sent["action"], sent["from_color"], sent["to_color"]) == ("pre-switch", "gate", "blue",
                                                                                    "green")
    assert sent["release_id"] == rel.id and sent["idempotency_key"] == f"{rel.id}:pre-switch:gate:green"
    assert sent["evidence"] == evidence(live).summary()  # the one summary: no paths, no failure details
    assert sent["evidence"]["schemas"]["expanded"] == live and sent["evidence"]["green_sha"] == GREEN_SHA
    # short shas in the release are the same commits
    short = ledger.get(rel.id)
    short.blue_sha = BLUE_SHA[:10]
    assert switch_gate(conn, short, evidence(live), live, hook).passed


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

    other = evidence(live, green_sha="ab" * 20)
    result = switch_gate(conn, rel, other, live, hook)
    assert statuses(result)["release"] == "fail"
    assert "evidence green is abababababab" in result.reasons[0] and "another release" in result.reasons[0]
    dirty = Evidence.from_dict(changed(document(expanded=live), "green.dirty", True))
    assert "uncommitted changes" in " ".join(switch_gate(conn, rel, dirty, live, hook).reasons)

    result = switch_gate(conn, rel, None, live, hook)
    assert result.reasons[0] == "evidence: no compat evidence (pass --evidence FILE from `migrator compat`)"


# the forgeries that used to open the switch: each is refused, with its reason, whatever `result` says
FORGERIES = {
    "a failed run edited to pass": (
        lambda live: document(expanded=live, cells=[cell("blue/expanded", "fail", passed=4, failed=3),
                                                    "green/expanded"]),
        "cells: blue/expanded: result fail (3 of 7 tests failed), 3 failed, 0 errors"),
    "the cell's own result edited too": (
        lambda live: document(expanded=live, cells=[cell("blue/expanded", passed=4, failed=3), "green/expanded"]),
        "cells: blue/expanded: 3 failed, 0 errors"),
    "zero tests": (
        lambda live: document(expanded=live, cells=[cell("blue/expanded", passed=0), cell("green/expanded", passed=0)]),
        "cells: blue/expanded: no test passed (no tests is no evidence); green/expanded: no test passed"),
    "every test skipped": (
        lambda live: document(expanded=live, cells=[cell("blue/expanded", passed=0, skipped=7), "green/expanded"]),
        "cells: blue/expanded: no test passed (no tests is no evidence)"),
    "no cells at all": (
        lambda live: document(expanded=live, cells=[]),
        "cells: the evidence has no blue/expanded cell; rerun `migrator compat`: blue's suite on the expanded "
        "schema; the evidence has no green/expanded cell"),
    "green's suite failed": (
        lambda live: document(expanded=live, cells=["blue/expanded", cell("green/expanded", "fail", passed=0,
                                                                           errors=55)]),
        "cells: green/expanded: result fail (55 of 55 tests failed), no test passed (no tests is no evidence), "
        "0 failed, 55 errors"),
    "only blue's cell (green never ran)": (
        lambda live: document(expanded=live, cells=["blue/expanded"]),
        "cells: the evidence has no green/expanded cell; rerun `migrator compat` so that green's suite runs on "
        "the expanded schema too"),
    "an honest failed run": (
        lambda live: document(expanded=live, result="fail", reason="blue suite on the expanded schema: 3 failed",
                              cells=[cell("blue/expanded", "fail", passed=4, failed=3), "green/expanded"]),
        "evidence: compat evidence result is 'fail', not 'pass' (blue suite on the expanded schema: 3 failed)"),
    "cells pass, but compat said fail": (
        lambda live: document(expanded=live, result="fail"), "evidence: compat evidence result is 'fail'"),
    "no expanded schema": (
        lambda live: document(expanded=None), "fingerprint: the evidence has no expanded schema fingerprint"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_switch_gate_recomputes_the_verdict_from_the_cells(conn, ledger, hook, db_url, forgery):
    live = schema_fingerprint(db_url)
    rel = release(ledger)
    make, reason = FORGERIES[forgery]
    result = switch_gate(conn, rel, Evidence.from_dict(make(live)), live, hook)
    assert not result.passed
    assert any(r.startswith(reason) for r in result.reasons), result.reasons
    with pytest.raises(GateRefused) as info:
        result.raise_if_refused()
    assert info.value.exit_code == 1 and str(info.value).startswith("switch gate refused: ")


def test_switch_gate_signature(conn, ledger, hook, db_url):
    live = schema_fingerprint(db_url)
    rel = release(ledger)
    unsigned = evidence(live)
    signed = unsigned.signed(KEY)
    other_key = b"some-other-key-0123456789abcdef"

    assert statuses(switch_gate(conn, rel, unsigned, live, hook))["signature"] == "pass"  # not required, no key
    result = switch_gate(conn, rel, signed, live, hook, signing=Signing(KEY))
    assert result.passed and f"signed with key {key_id(KEY)}, signature verified" in result.checks[1].detail
    # a key is set: a badly signed file is refused, required or not
    result = switch_gate(conn, rel, signed, live, hook, signing=Signing(other_key))
    assert result.reasons == [f"signature: signed with key {key_id(KEY)}, but the key set here is "
                              f"{key_id(other_key)}"]
    edited = Evidence.from_dict(changed(signed.to_dict(), "cells.0.duration", 0.9))
    result = switch_gate(conn, rel, edited, live, hook, signing=Signing(KEY))
    assert result.reasons == [f"signature: the signature (key {key_id(KEY)}) does not match the content: the file "
                              "was changed after it was signed"]
    # unsigned: fine unless the release requires signed evidence
    assert switch_gate(conn, rel, unsigned, live, hook, signing=Signing(KEY)).passed
    result = switch_gate(conn, rel, unsigned, live, hook, signing=Signing(KEY, required=True))
    assert result.reasons == ["signature: the evidence is not signed, and the release requires signed evidence "
                              "(require_signed_evidence): run `migrator compat` with the evidence key set"]
    result = switch_gate(conn, rel, signed, live, hook, signing=Signing(None, required=True))
    assert "requires signed evidence (require_signed_evidence), but no evidence key is set here" in result.reasons[0]
    # signed but no key here, not required: passes, and says it was not verified
    result = switch_gate(conn, rel, signed, live, hook)
    assert result.passed and "no key is set here to verify it" in result.checks[1].detail
    assert switch_gate(conn, rel, signed, live, hook, signing=Signing(KEY, required=True)).passed


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


# -- expand gate ---------------------------------------------------------------------------------------------------
def test_expand_gate_needs_blue_on_the_expanded_schema_and_the_live_schema_at_blue(conn, ledger, db_url):
    live = schema_fingerprint(db_url)
    rel = release(ledger, "planned")
    only_blue = Evidence.from_dict(document(blue=live, cells=["blue/expanded"]))
    result = expand_gate(conn, rel, only_blue, live)
    assert result.passed and result.gate == "expand", result.reasons
    assert statuses(result) == {"evidence": "pass", "signature": "pass", "cells": "pass", "fingerprint": "pass",
                                "release": "pass"}

    result = expand_gate(conn, rel, Evidence.from_dict(document(blue="0" * 64)), live)
    assert result.reasons == [f"fingerprint: the evidence built blue's schema as 000000000000, the live database has "
                              f"{live[:12]}: it is not at blue's schema; rerun `migrator compat --blue <the ref "
                              "production runs>` against this database's version"]
    # a re-run after an interrupted expand: the live schema is half-way, not blue's; not compared
    result = expand_gate(conn, rel, Evidence.from_dict(document(blue="0" * 64)), live, applied=["0003"])
    assert result.passed and "0003 of this release already applied" in result.checks[3].detail

    failed = Evidence.from_dict(document(blue=live, cells=[cell("blue/expanded", "fail", passed=2, failed=5)]))
    assert expand_gate(conn, rel, failed, live).reasons == [
        "cells: blue/expanded: result fail (5 of 7 tests failed), 5 failed, 0 errors"]
    assert expand_gate(conn, rel, Evidence.from_dict(document(blue=live, cells=[])), live).reasons == [
        "cells: the evidence has no blue/expanded cell; rerun `migrator compat`: blue's suite on the expanded schema"]
    other = Evidence.from_dict(document(blue=live, blue_sha="0" * 40))
    assert "(evidence for another release?)" in expand_gate(conn, rel, other, live).reasons[0]
    assert expand_gate(conn, rel, None, live).reasons == [
        "evidence: no compat evidence (pass --evidence FILE from `migrator compat`)"]
    unsigned = Evidence.from_dict(document(blue=live))
    assert "signature: the evidence is not signed" in expand_gate(
        conn, rel, unsigned, live, signing=Signing(KEY, required=True)).reasons[0]
    assert expand_gate(conn, rel, unsigned.signed(KEY), live, signing=Signing(KEY, required=True)).passed


# -- contract gate -----------------------------------------------------------------------------------------------
def _switch(ledger: Ledger, hook, rel: Release, stored: dict | None = None) -> Release:
    """Switch `rel` as `migrator switch` does: the ledger keeps the accepted evidence (every cell passed)."""
    from migrator.routers import move_traffic

    move_traffic(hook, rel.id, "green", "blue", "switch", {}, 10)
    ledger.event(rel.id, "switch", "ok")
    ledger.set_state(rel.id, "switched", active_color="green", evidence=stored or document())
    return ledger.get(rel.id)


def contract(conn, rel, ledger, hook, soak, names, **kwargs):
    """contract_gate with the live schema being the evidence's expanded one (EXPANDED_PRINT)."""
    return contract_gate(conn, rel, ledger, hook, soak, names, live_fingerprint=EXPANDED_PRINT, **kwargs)


def test_contract_gate_passes_after_soak_on_green(conn, ledger, hook):
    rel = _switch(ledger, hook, release(ledger))
    result = contract(conn, rel, ledger, hook, 0, None)
    assert result.passed, result.reasons
    assert statuses(result) == {"evidence": "pass", "signature": "pass", "cells": "pass", "fingerprint": "pass",
                                "release": "pass", "traffic": "pass", "soak": "pass", "rollback": "pass",
                                "blue sessions": "pass"}
    assert result.checks[2].detail == "green/contracted 7 passed"
    assert "not checked" in result.checks[-1].detail


def test_contract_gate_needs_green_on_the_contracted_schema(conn, ledger, hook):
    # the evidence the switch stored has no green/contracted cell: `migrator compat --full` makes one
    rel = _switch(ledger, hook, release(ledger), document(cells=["blue/expanded", "green/expanded"]))
    result = contract(conn, rel, ledger, hook, 0, None)
    assert result.reasons == ["cells: the evidence has no green/contracted cell; run `migrator compat --full`: "
                              "green's suite on the contracted schema"]
    # evidence given to contract wins over the stored one
    assert contract(conn, rel, ledger, hook, 0, None, evidence=Evidence.from_dict(document())).passed
    failed = Evidence.from_dict(document(cells=["blue/expanded", "green/expanded",
                                                cell("green/contracted", "fail", passed=5, failed=2)], result="fail"))
    reasons = contract(conn, rel, ledger, hook, 0, None, evidence=failed).reasons
    assert "cells: green/contracted: result fail (2 of 7 tests failed), 2 failed, 0 errors" in reasons
    # built from another schema than the live one, or for another release
    full = Evidence.from_dict(document())
    assert "fingerprint: the evidence was made against schema eeeeeeeeeeee, the live database has 000000000000" in \
        contract_gate(conn, rel, ledger, hook, 0, None, evidence=full, live_fingerprint="0" * 64).reasons[0]
    assert contract_gate(conn, rel, ledger, hook, 0, None, evidence=full).reasons[0] == (
        "fingerprint: the live database's schema fingerprint is unknown")
    other = Evidence.from_dict(document(green_sha="0" * 40))
    assert "(evidence for another release?)" in contract(conn, rel, ledger, hook, 0, None, evidence=other).reasons[0]
    # a signed stored evidence is checked again with the key
    signed = _switch(ledger, hook, ledger.get(rel.id), Evidence.from_dict(document()).signed(KEY).to_dict())
    assert contract(conn, signed, ledger, hook, 0, None, signing=Signing(KEY, required=True)).passed
    assert "signature: signed with key" in contract(conn, signed, ledger, hook, 0, None,
                                                    signing=Signing(b"x" * 20)).reasons[0]


def test_contract_gate_without_usable_stored_evidence(conn, ledger, hook):
    rel = release(ledger)
    ledger.set_state(rel.id, "switched", active_color="green")  # forced through the switch without evidence
    result = contract(conn, ledger.get(rel.id), ledger, hook, 0, None)
    assert result.reasons[0] == "evidence: no compat evidence (pass --evidence FILE from `migrator compat`)"
    old = {"version": 1, "kind": "migrator.compat", "result": "pass"}  # stored by an older migrator
    ledger.set_state(rel.id, "switched", evidence=old)
    result = contract(conn, ledger.get(rel.id), ledger, hook, 0, None)
    assert result.reasons[0] == ("evidence: the evidence stored in the ledger is not usable (evidence version 1 is "
                                 "from an older migrator: rerun `migrator compat`); pass --evidence FILE from "
                                 "`migrator compat --full`")
    given = contract(conn, ledger.get(rel.id), ledger, hook, 0, None, evidence=Evidence.from_dict(document()))
    assert {name: status for name, status in statuses(given).items() if name in ("evidence", "cells")} == {
        "evidence": "pass", "cells": "pass"}


def test_contract_gate_waits_for_the_soak_time(conn, ledger, hook):
    rel = _switch(ledger, hook, release(ledger))
    result = contract(conn, rel, ledger, hook, 900, None)
    assert not result.passed and result.pending
    assert result.reasons[0].startswith("soak: ") and "of 15m soak on green elapsed" in result.reasons[0]
    assert "to go" in result.reasons[0]


def test_contract_gate_needs_the_router_on_green(conn, ledger, hook, tmp_path):
    rel = _switch(ledger, hook, release(ledger))
    (tmp_path / "color").write_text("blue")  # someone moved traffic back outside migrator
    result = contract(conn, rel, ledger, hook, 0, None)
    assert not result.passed and not result.pending
    assert result.reasons == ["traffic: command router.sh traffic on green: the router serves blue, not green"]
    assert not contract(conn, rel, ledger, None, 0, None).passed
    broken = CommandHook(["false"])
    assert "traffic on green failed" in contract(conn, rel, ledger, broken, 0, None).reasons[0]


def test_contract_gate_refuses_after_a_rollback_until_switched_again(conn, ledger, hook):
    rel = _switch(ledger, hook, release(ledger))
    ledger.event(rel.id, "rollback", "refused", {"reason": "coordinator busy"})  # moved nothing
    assert contract(conn, rel, ledger, hook, 0, None).passed

    ledger.event(rel.id, "rollback", "failed", {"stage": "verify"})  # may have moved traffic half-way
    result = contract(conn, ledger.get(rel.id), ledger, hook, 0, None)
    assert statuses(result)["rollback"] == "fail" and "result 'failed'" in result.reasons[0]
    assert "finish it (`migrator rollback`) and switch to green again" in result.reasons[0]

    ledger.set_state(rel.id, "rolled_back", active_color="blue")
    rel = _switch(ledger, hook, ledger.get(rel.id))  # a new switch clears it
    assert rel.rolled_back_at < rel.switched_at
    assert contract(conn, rel, ledger, hook, 0, None).passed

    never = Ledger(conn, ledger.schema + "_never")
    never.ensure()
    result = contract(conn, release(never, "migrated"), never, hook, 0, None)
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
        result = contract(conn, rel, ledger, hook, 0, app)
        assert not result.passed and result.pending
        assert result.reasons == [f"blue sessions: 1 session(s) of blue (application_name '{app}') still "
                                  f"connected: pid {pid} from 127.0.0.1"]
        assert not contract(conn, rel, ledger, hook, 0, ["shop-blue-other", app]).passed
        assert contract(conn, rel, ledger, hook, 0, "shop-blue-other").passed
    finally:
        blue.close()
        elsewhere.close()
    result = contract(conn, rel, ledger, hook, 0, app)
    assert result.passed and f"no session with application_name '{app}'" in result.checks[-1].detail


def test_gate_result_dict():
    result = GateResult(False, ["soak: 1s of 15m"], "contract")
    assert result.to_dict() == {"gate": "contract", "passed": False, "reasons": ["soak: 1s of 15m"], "checks": []}
    assert not GateResult.of("contract", []).passed  # no checks: nothing proved
