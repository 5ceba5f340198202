"""The compat evidence at the release commands, on the demo app against the real PostgreSQL at 127.0.0.1:5432:
expand, switch and contract recompute the verdict from the cells; forged, mistyped and badly signed evidence is
refused (exit 1 with the reason, or exit 2 with one line); what the ledger keeps (a digest and the summary in
events, the whole accepted evidence with the release); `status --evidence` says what `switch` does."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from migrator.evidence import Evidence, key_id, load_evidence
from tests._cli import assert_one_line_error, run
from tests._evidence import KEY, cell, changed
from tests.integration.test_release_commands import (  # noqa: F401 - demo and demo_template are fixtures
    ctx_for, demo, demo_template, evidence_for, expand_for, has_column, needs_applier, query, state_of,
    write_release_config)

pytestmark = pytest.mark.usefixtures("pg_server")


def evidence_rows(url: str, rid: str) -> list[tuple]:
    return query(url, "SELECT command, result, forced, reason, detail, evidence FROM migrator.events "
                      "WHERE release_id = %s ORDER BY id", (rid,))


def stored(url: str, rid: str) -> dict | None:
    return query(url, "SELECT evidence FROM migrator.releases WHERE id = %s", (rid,))[0][0]


def forge(path: Path, source: Path, field: str, value) -> Path:
    """`source` with one field changed, written as it is (a forgery or a mistake by hand)."""
    path.write_text(json.dumps(changed(json.loads(source.read_text()), field, value), indent=2), encoding="utf-8")
    return path


def migrated(repo, config, url) -> str:
    from migrator.release import commands

    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    return rid


# -- expand --------------------------------------------------------------------------------------------------------
def test_expand_needs_evidence_and_refuses_what_does_not_prove_blue_on_the_expanded_schema(demo):
    from migrator.errors import UsageError
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    repo, config, ops, url, _ = demo
    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    with pytest.raises(UsageError, match=r"expand needs --evidence FILE"):
        commands.expand(ctx_for(repo, config, url))

    not_blue = evidence_for(url, repo, ops / "not-blue.json", fingerprint="0" * 64)
    with pytest.raises(GateRefused, match=r"expand gate refused: fingerprint: the evidence built blue's schema as "
                                          r"000000000000, the live database has [0-9a-f]{12}: it is not at blue's"):
        commands.expand(ctx_for(repo, config, url, evidence=not_blue))
    good = evidence_for(url, repo, ops / "good.json")
    failed = forge(ops / "failed.json", good, "cells.0", cell("blue/expanded", "pass", passed=4, failed=3))
    with pytest.raises(GateRefused, match=r"expand gate refused: cells: blue/expanded: 3 failed, 0 errors"):
        commands.expand(ctx_for(repo, config, url, evidence=failed))
    assert not has_column(url, "users", "full_name") and state_of(url, rid) == ("planned", "blue")

    # forced: recorded as forced, with the reasons the gate refused
    done = commands.expand(ctx_for(repo, config, url, evidence=failed, force=True, reason="INC-9: suite flaky"))
    assert done["forced"] is True and done["state"] == "expanded" and has_column(url, "users", "full_name")
    rows = evidence_rows(url, rid)
    assert [(c, r, f) for c, r, f, *_ in rows] == [
        ("plan", "succeeded", False), ("expand", "refused", False), ("expand", "refused", False),
        ("expand", "started", True), ("expand", "succeeded", True)]
    command, result, forced, reason, detail, evidence = rows[-1]
    assert reason == "INC-9: suite flaky" and detail["gate"]["passed"] is False
    assert detail["gate"]["reasons"] == ["cells: blue/expanded: 3 failed, 0 errors"]
    assert evidence["digest"] == load_evidence(failed).digest() and evidence["verified"] is False
    # the release keeps the whole evidence it went on with
    assert stored(url, rid) == load_evidence(failed).to_dict()


def test_an_unforced_expand_is_recorded_as_not_forced_with_its_evidence(demo):
    from migrator.release import commands

    needs_applier()
    repo, config, ops, url, _ = demo
    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    good = evidence_for(url, repo, ops / "good.json")
    done = commands.expand(ctx_for(repo, config, url, evidence=good))
    assert done["forced"] is False and [c["status"] for c in done["gate"]["checks"]] == ["pass"] * 5
    _, _, forced, reason, detail, evidence = evidence_rows(url, rid)[-1]
    assert (forced, reason, detail["gate"]["passed"]) == (False, None, True)
    assert evidence == {**load_evidence(good).summary(), "verified": False}


# -- switch: what the ledger keeps ---------------------------------------------------------------------------------
def test_the_ledger_keeps_a_digest_in_events_and_the_whole_evidence_with_the_release(demo, monkeypatch):
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    monkeypatch.setenv("MIGRATOR_EVIDENCE_KEY", KEY.decode())
    repo, config, ops, url, _ = demo
    rid = migrated(repo, config, url)
    good = evidence_for(url, repo, ops / "signed.json", key=KEY)
    forged = forge(ops / "forged.json", evidence_for(url, repo, ops / "base.json"), "cells.1",
                   cell("green/expanded", "fail", passed=0, errors=55))
    forged_doc = forged.read_text()
    with pytest.raises(GateRefused, match=r"cells: green/expanded: result fail \(55 of 55 tests failed\)"):
        commands.switch(ctx_for(repo, config, url, evidence=forged))
    *_, detail, refused = evidence_rows(url, rid)[-1]
    assert refused == {**load_evidence(forged).summary(), "verified": False}  # a digest and the summary
    assert "project_dir" not in json.dumps(refused) and "failures" not in json.dumps(refused)
    assert len(json.dumps(refused)) < len(forged_doc) / 3
    assert detail["gate"]["passed"] is False
    kept = stored(url, rid)  # still the evidence expand went on with: a refused file replaces nothing
    assert kept["cells"][1]["result"] == "pass" and kept["signature"] is None

    done = commands.switch(ctx_for(repo, config, url, evidence=good))
    assert done["state"] == "switched" and done["forced"] is False
    signed = load_evidence(good, key=KEY)
    for command, result, forced, _, _, evidence in evidence_rows(url, rid)[-2:]:
        assert (command, forced) == ("switch", False) and result in ("started", "succeeded")
        assert evidence["key_id"] == key_id(KEY) and evidence["verified"] is True
        assert evidence["digest"] == signed.digest()
    assert stored(url, rid) == signed.to_dict()  # contract and migrator.startup read it later
    status = commands.status(ctx_for(repo, config, url))
    assert status["evidence"] == signed.summary()


def test_badly_signed_and_unsigned_evidence(demo, monkeypatch):
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    repo, config, ops, url, _ = demo
    rid = migrated(repo, config, url)
    good = evidence_for(url, repo, ops / "signed.json", key=KEY)
    text = good.read_text()
    at = text.index('"duration_seconds": 3.2') + len('"duration_seconds": 3.')
    edited = ops / "edited.json"
    edited.write_text(text[:at] + "7" + text[at + 1:], encoding="utf-8")  # one byte
    unsigned = evidence_for(url, repo, ops / "unsigned.json")

    monkeypatch.setenv("MIGRATOR_EVIDENCE_KEY", KEY.decode())
    with pytest.raises(GateRefused, match=r"signature: the signature \(key [0-9a-f]{16}\) does not match the "
                                          r"content: the file was changed after it was signed"):
        commands.switch(ctx_for(repo, config, url, evidence=edited))
    monkeypatch.setenv("MIGRATOR_EVIDENCE_KEY", "another-key-0123456789")
    with pytest.raises(GateRefused, match=rf"signature: signed with key {key_id(KEY)}, but the key set here is"):
        commands.switch(ctx_for(repo, config, url, evidence=good))

    # the release requires signed evidence: unsigned is refused; the key may live in a variable config names
    monkeypatch.delenv("MIGRATOR_EVIDENCE_KEY")
    monkeypatch.setenv("SHOP_EVIDENCE_KEY", KEY.decode())
    strict = write_release_config(ops / "strict", extra_release='require_signed_evidence = true\n'
                                                                'evidence_key_env = "SHOP_EVIDENCE_KEY"\n')
    with pytest.raises(GateRefused, match=r"signature: the evidence is not signed, and the release requires signed "
                                          r"evidence"):
        commands.switch(ctx_for(repo, strict, url, evidence=unsigned))
    assert state_of(url, rid) == ("migrated", "blue")
    done = commands.switch(ctx_for(repo, strict, url, evidence=good))
    assert done["state"] == "switched" and done["evidence"]["key_id"] == key_id(KEY) and done["evidence"]["verified"]
    assert [(c, r) for c, r, *_ in evidence_rows(url, rid)][-5:] == [
        ("switch", "refused"), ("switch", "refused"), ("switch", "refused"), ("switch", "started"),
        ("switch", "succeeded")]


# -- status --evidence says what switch does -----------------------------------------------------------------------
def test_status_evidence_and_switch_agree(demo, monkeypatch):
    from migrator.errors import MigratorError
    from migrator.release import commands

    needs_applier()
    monkeypatch.setenv("MIGRATOR_EVIDENCE_KEY", KEY.decode())
    repo, config, ops, url, _ = demo
    migrated(repo, config, url)
    good = evidence_for(url, repo, ops / "good.json", key=KEY)
    base = evidence_for(url, repo, ops / "base.json")
    files = {
        "edited result": forge(ops / "f1.json", base, "cells.0", cell("blue/expanded", "fail", passed=4, failed=3)),
        "zero tests": forge(ops / "f2.json", base, "cells.0", cell("blue/expanded", passed=0)),
        "no cells": forge(ops / "f3.json", base, "cells", []),
        "another schema": evidence_for(url, repo, ops / "f4.json", fingerprint="1" * 64),
        "mistyped count": forge(ops / "f5.json", base, "cells.1.failed", "0"),
        "integer sha": forge(ops / "f6.json", base, "green.sha", 12345),
        "signed, then edited": forge(ops / "f7.json", good, "reason", "looks fine"),
        "passing": good,
    }
    for what, path in files.items():
        said = commands.status(ctx_for(repo, config, url, evidence=path))["gates"]["switch"]
        try:
            done = commands.switch(ctx_for(repo, config, url, evidence=path))
        except MigratorError as exc:
            assert not said["passed"], what
            if exc.exit_code == 1:  # refused by the gate: the same checks, the same reasons
                assert said["evaluated"] and exc.reasons == said["reasons"], what
            else:  # unusable file: status cannot evaluate it, for the same reason
                assert not said["evaluated"] and said["reasons"] == [str(exc)], what
        else:
            assert what == "passing" and said["passed"] and done["gate"]["checks"] == said["checks"]
    assert said["evaluated"] and [c["name"] for c in said["checks"]] == [
        "evidence", "signature", "cells", "fingerprint", "release", "router"]


def test_status_needs_no_alembic_ini(demo, tmp_path):
    from migrator.release import commands

    repo, config, ops, url, _ = demo
    commands.plan(ctx_for(repo, config, url, blue="blue"))
    elsewhere = tmp_path / "ops-checkout"  # a folder with no alembic.ini: status only reads the ledger
    elsewhere.mkdir()
    status = commands.status(ctx_for(elsewhere, config, url))
    assert status["state"] == "planned" and status["next_command"] == "migrator expand --evidence <compat evidence>"
    assert status["gates"] == {"expand": {"passed": False, "evaluated": False,
                                          "reasons": ["give --evidence FILE to evaluate the expand gate"]}}
    good = evidence_for(url, repo, ops / "good.json")
    assert commands.status(ctx_for(elsewhere, config, url, evidence=good))["gates"]["expand"]["passed"] is True
    result = run("status", "--config", str(config), cwd=elsewhere, env={"MIGRATOR_DATABASE_URL": url})
    assert result.code == 0 and "release r-" in result.out and "planned" in result.out, result.err


# -- contract ------------------------------------------------------------------------------------------------------
def test_contract_needs_green_on_the_contracted_schema(demo):
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    repo, config, ops, url, _ = demo
    rid = migrated(repo, config, url)
    no_contracted = evidence_for(url, repo, ops / "switch.json", cells=("blue/expanded", "green/expanded"))
    commands.switch(ctx_for(repo, config, url, evidence=no_contracted))
    with pytest.raises(GateRefused, match=r"contract gate refused: cells: the evidence has no green/contracted cell; "
                                          r"run `migrator compat --full`"):
        commands.contract(ctx_for(repo, config, url))
    status = commands.status(ctx_for(repo, config, url))
    assert status["gates"]["contract"]["passed"] is False
    assert "run `migrator compat --full`" in status["gates"]["contract"]["reasons"][0]
    assert has_column(url, "users", "name")

    full = evidence_for(url, repo, ops / "full.json")
    assert commands.status(ctx_for(repo, config, url, evidence=full))["gates"]["contract"]["passed"] is True
    done = commands.contract(ctx_for(repo, config, url, evidence=full))
    assert done["state"] == "contracted" and not has_column(url, "users", "name")
    assert stored(url, rid) == load_evidence(full).to_dict()
    assert evidence_rows(url, rid)[-1][5]["digest"] == load_evidence(full).digest()


# -- the command line: unusable evidence is exit 2 in one line; nothing recorded -------------------------------------
def test_unusable_evidence_is_one_line_exit_2(demo):
    needs_applier()
    repo, config, ops, url, _ = demo
    rid = migrated(repo, config, url)
    base = evidence_for(url, repo, ops / "base.json")
    env = {"MIGRATOR_DATABASE_URL": url}
    fifo = ops / "fifo.json"
    os.mkfifo(fifo)
    big = ops / "big.json"
    big.write_bytes(b" " * (1024 * 1024 + 1))
    cases = {
        forge(ops / "count.json", base, "cells.1.failed", "0"): 'cells[1].failed: expected a non-negative integer, '
                                                                 'got "0"',
        forge(ops / "sha.json", base, "blue.sha", 12345): "blue.sha: expected 40 lowercase hex digits",
        forge(ops / "print.json", base, "schemas.expanded", 7): "schemas.expanded: expected 64 lowercase hex digits",
        forge(ops / "extra.json", base, "schema_fingerprint", "e" * 64): "schema_fingerprint: unknown key",
        forge(ops / "v1.json", base, "version", 1): "evidence version 1 is from an older migrator: rerun "
                                                    "`migrator compat`",
        fifo: "a FIFO, not a regular file: refusing to read it as evidence",
        big: "1048577 bytes is over the evidence size limit (1048576 bytes)",
    }
    before = len(evidence_rows(url, rid))
    for path, message in cases.items():
        started = time.monotonic()
        result = run("switch", "--to", "green", "--evidence", str(path), "--config", str(config), cwd=repo, env=env)
        line = assert_one_line_error(result, code=2)
        assert line == f"migrator: {path}: {message}" or line.startswith(f"migrator: {path}: {message}"), line
        assert time.monotonic() - started < 30
        status = run("status", "--evidence", str(path), "--config", str(config), "-f", "json", cwd=repo, env=env)
        gate = json.loads(status.out)["gates"]["switch"]
        assert status.code == 0 and gate["evaluated"] is False and gate["reasons"] == [line[len("migrator: "):]]
    assert len(evidence_rows(url, rid)) == before and state_of(url, rid) == ("migrated", "blue")
    result = run("switch", "--to", "green", "--evidence", str(base), "--config", str(config), cwd=repo, env=env)
    assert result.code == 0, result.err
    assert Evidence.from_dict(stored(url, rid)).digest() == load_evidence(base).digest()
