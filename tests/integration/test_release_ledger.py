"""The ledger against the real PostgreSQL at 127.0.0.1:5432: tampering is evident (D5: a hash chain over the events,
TRUNCATE refused, a release's state only through events, `migrator status` says where it breaks), the upgrade of a
version-1 ledger, and a mixed-case ledger schema (D11: quoted everywhere, checkpoints never silently off)."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import psycopg
import pytest

from tests._cli import run
from tests.integration.test_release_commands import (  # noqa: F401  (demo, demo_template: fixtures)
    ctx_for, demo, demo_template, evidence_for, expand_for, fresh_database, query, state_of)

pytestmark = pytest.mark.usefixtures("pg_server")

V1_DDL = Path(__file__).parents[1] / "data" / "ledger" / "v1.sql"


def planned_and_expanded(repo, config, url) -> str:
    from migrator.release import commands

    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    return rid


def chain(url: str, schema: str = "migrator") -> list[tuple]:
    return query(url, f'SELECT id, prev_hash, hash, command, result, state FROM "{schema}".events ORDER BY id')


def tamper(url: str, *statements: str) -> None:
    """What the role migrator runs as can do: switch the ledger's triggers off, change rows, switch them on."""
    with psycopg.connect(_libpq(url), autocommit=True) as conn, conn.transaction():
        conn.execute("ALTER TABLE migrator.events DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE migrator.releases DISABLE TRIGGER USER")
        for statement in statements:
            conn.execute(statement)
        conn.execute("ALTER TABLE migrator.events ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE migrator.releases ENABLE TRIGGER USER")


def _libpq(url: str) -> str:
    from migrator.release.commands import libpq_url

    return libpq_url(url)


# --- D5: the chain ----------------------------------------------------------------------------------------------


def test_events_form_a_hash_chain_that_status_verifies(demo):
    from migrator.release import commands

    repo, config, ops, url, _ = demo
    planned_and_expanded(repo, config, url)
    rows = chain(url)
    assert [(c, r, s) for _, _, _, c, r, s in rows] == [
        ("plan", "succeeded", "planned"), ("expand", "started", None), ("expand", "succeeded", "expanded")]
    assert rows[0][1] is None
    for before, after in zip(rows, rows[1:]):
        assert after[1] == before[2]  # each event carries the hash of the one before it
    assert all(len(r[2]) == 64 for r in rows) and len({r[2] for r in rows}) == 3
    status = commands.status(ctx_for(repo, config, url))
    assert status["ledger"] == {"version": 2, "verified": True, "events": 3, "head": rows[-1][2], "problem": None,
                                "broken_at": None}
    assert "exit_code" not in status
    shown = run("status", "--config", str(config), cwd=repo, env={"MIGRATOR_DATABASE_URL": url})
    assert shown.code == 0, shown.err
    assert f"ledger: 3 events, hash chain verified, head {rows[-1][2][:16]}" in shown.out


def test_truncate_delete_update_and_state_writes_are_refused(demo):
    repo, config, ops, url, _ = demo
    rid = planned_and_expanded(repo, config, url)
    refused = {
        "TRUNCATE migrator.events": "append-only",
        "TRUNCATE migrator.releases CASCADE": "append-only",
        "TRUNCATE migrator.events, migrator.releases, migrator.applied": "append-only",
        "DELETE FROM migrator.events": "append-only",
        "UPDATE migrator.events SET result = 'succeeded'": "append-only",
        f"UPDATE migrator.releases SET state = 'switched', active_color = 'green' WHERE id = '{rid}'":
            "changes only through a new ledger event",
        f"UPDATE migrator.releases SET switched_at = now() - interval '1 day' WHERE id = '{rid}'":
            "changes only through a new ledger event",
        f"DELETE FROM migrator.releases WHERE id = '{rid}'": "never deleted",
        "INSERT INTO migrator.releases (id, state) VALUES ('r-forged', 'switched')": "starts planned",
    }
    for statement, says in refused.items():
        with pytest.raises(psycopg.Error, match=says):
            query(url, statement)
    # an event carrying a state does not move the release by itself, and a row update needs its own new event
    query(url, "INSERT INTO migrator.events (release_id, actor, command, result, state, active_color) "
               "VALUES (%s, 'x', 'switch', 'succeeded', 'switched', 'green')", (rid,))
    with pytest.raises(psycopg.Error, match="changes only through a new ledger event"):
        query(url, "UPDATE migrator.releases SET state = 'migrated' WHERE id = %s", (rid,))
    assert state_of(url, rid) == ("expanded", "blue")


@pytest.mark.parametrize("change, says", [
    ("DELETE FROM migrator.events WHERE id = (SELECT min(id) FROM migrator.events WHERE command = 'expand')",
     r"the chain breaks at event \d+: it was not written after event \d+ \(events between them were removed"),
    ("UPDATE migrator.events SET detail = '{\"forged\": true}' WHERE command = 'plan'",
     r"event \d+ was changed after it was written"),
    ("DELETE FROM migrator.events WHERE id = (SELECT max(id) FROM migrator.events)",
     r"the chain ends at event \d+, but the ledger's head is event \d+: the last events were removed"),
    ("UPDATE migrator.releases SET state = 'migrated'",
     r"release r-\S+ says 'migrated' on blue, but its latest state event \d+ says 'expanded' on blue"),
])
def test_tampering_behind_disabled_triggers_is_evident(demo, change, says):
    from migrator.release import commands
    from migrator.release.errors import LedgerTampered

    repo, config, ops, url, _ = demo
    planned_and_expanded(repo, config, url)
    tamper(url, change)
    status = commands.status(ctx_for(repo, config, url))
    assert status["exit_code"] == 2 and status["ledger"]["verified"] is False
    assert re.search(says, status["ledger"]["problem"]), status["ledger"]["problem"]
    with pytest.raises(LedgerTampered, match="was changed outside migrator: .*" + says):
        commands.migrate(ctx_for(repo, config, url))
    shown = run("status", "--config", str(config), cwd=repo, env={"MIGRATOR_DATABASE_URL": url})
    assert shown.code == 2, (shown.out, shown.err)
    assert "LEDGER TAMPERED: " in shown.out and re.search(says, shown.out)
    assert shown.err.startswith("migrator: the ledger was changed outside migrator")
    as_json = run("status", "--config", str(config), "-f", "json", cwd=repo, env={"MIGRATOR_DATABASE_URL": url})
    assert as_json.code == 2 and json.loads(as_json.out)["ledger"]["verified"] is False
    refused = run("migrate", "--config", str(config), cwd=repo, env={"MIGRATOR_DATABASE_URL": url})
    assert refused.code == 2 and "was changed outside migrator" in refused.err


# --- D5: version 1 -> 2 -----------------------------------------------------------------------------------------


def make_v1_ledger(url: str, release_id: str, state: str = "migrated") -> None:
    """A ledger exactly as the previous migrator (LEDGER_VERSION 1) left it, with a release in flight."""
    ddl = V1_DDL.read_text(encoding="utf-8").replace("{schema}", "migrator")
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        from migrator.release.ledger import _split

        for statement in _split("\n".join(ln for ln in ddl.splitlines() if not ln.startswith("--"))):
            conn.execute(statement)
        conn.execute("INSERT INTO migrator.ledger_meta (version) VALUES (1)")
        conn.execute("INSERT INTO migrator.releases (id, state, blue_sha, green_sha, revisions) VALUES "
                     "(%s, %s, %s, %s, %s)", (release_id, state, "b1" * 20, "9e" * 20,
                                              json.dumps({"expand": ["0003"], "migrate": ["0004"],
                                                          "contract": ["0005"], "blue_heads": ["0002"]})))
        for command, result in (("plan", "succeeded"), ("expand", "started"), ("expand", "succeeded"),
                                ("migrate", "started"), ("migrate", "succeeded")):
            conn.execute("INSERT INTO migrator.events (release_id, actor, command, result, detail) "
                         "VALUES (%s, 'ci@old', %s, %s, '{\"n\": 1}')", (release_id, command, result))


def test_a_version_1_ledger_is_upgraded_in_place():
    from migrator.release import commands
    from migrator.release.ledger import Ledger

    rid = f"r-v1-{secrets.token_hex(3)}"
    with fresh_database() as (url, _):
        make_v1_ledger(url, rid)
        ctx = commands.ReleaseContext(database_url=url, project_dir=Path(__file__).parents[2])
        # status only reads: it reports version 1, verifies nothing, changes nothing
        status = commands.status(ctx)
        assert status["state"] == "migrated" and status["ledger"]["version"] == 1
        assert query(url, "SELECT version FROM migrator.ledger_meta") == [(1,)]
        # a command that takes the lock upgrades it (here through the same path every command takes)
        conn = commands.connect(url)
        try:
            Ledger(conn).ensure()
        finally:
            conn.close()
        assert query(url, "SELECT version FROM migrator.ledger_meta") == [(2,)]
        rows = chain(url)
        assert [(c, r) for _, _, _, c, r, _ in rows][-1] == ("ledger", "upgraded")
        assert [s for *_, s in rows] == [None] * 5 + ["migrated"]
        assert rows[0][1] is None and all(b[2] == a[1] for b, a in zip(rows, rows[1:]))
        status = commands.status(commands.ReleaseContext(database_url=url, project_dir=Path(__file__).parents[2]))
        assert status["ledger"]["verified"] is True and status["ledger"]["events"] == 6
        assert status["state"] == "migrated" and status["active_color"] == "blue"
        # ... and from now on its states change only through events, and switching is a state it knows
        with pytest.raises(psycopg.Error, match="changes only through a new ledger event"):
            query(url, "UPDATE migrator.releases SET state = 'switched'")
        conn = commands.connect(url)
        try:
            ledger = Ledger(conn)
            ledger.ensure()  # idempotent: nothing upgraded twice
            ledger.transition(rid, "switch", "started", "switching", switching=("green", "migrated"))
            assert ledger.get(rid).switching_to == "green" and ledger.verify().verified
        finally:
            conn.close()
        assert query(url, "SELECT count(*) FROM migrator.events WHERE command = 'ledger'") == [(1,)]


# --- D11: a mixed-case ledger schema ----------------------------------------------------------------------------


def test_a_mixed_case_ledger_schema_works_and_keeps_checkpoints(demo):
    """--ledger-schema Mig: the ledger lands in "Mig" (not mig), is created once, the migrate backfill keeps its
    checkpoint there, and the release goes all the way."""
    from migrator.release import commands

    repo, config, ops, url, _ = demo
    env = {"MIGRATOR_DATABASE_URL": url}

    def migrator(*args: str, code: int = 0):
        result = run(*args, "--config", str(config), "--ledger-schema", "Mig", cwd=repo, env=env)
        assert result.code == code, (args, result.out, result.err)
        return result

    migrator("plan", "--blue", "blue")
    import psycopg as pg

    with pg.connect(_libpq(url), autocommit=True) as conn:
        fingerprint = commands.live_fingerprint(conn, "Mig")
    evidence = evidence_for(url, repo, ops / "e.json", fingerprint=fingerprint)
    migrator("expand", "--evidence", str(evidence))
    done = migrator("migrate")
    assert "without a checkpoint" not in done.err
    assert query(url, "SELECT to_regnamespace('mig') IS NULL, to_regnamespace('\"Mig\"') IS NOT NULL") == [(True, True)]
    assert query(url, 'SELECT version FROM "Mig".ledger_meta') == [(2,)]
    cps = query(url, 'SELECT name, rows_done, finished FROM "Mig".checkpoints')
    assert len(cps) == 1 and cps[0][1] == 25 and cps[0][2] is True, cps
    shown = migrator("status")
    assert "migrated, traffic on blue" in shown.out and "hash chain verified" in shown.out


def test_a_backfill_under_a_release_refuses_to_run_without_its_checkpoint_table():
    from migrator.backfill import BackfillError, backfill, release_context
    from migrator.release.settings import ReleaseSettings

    with fresh_database() as (url, _):
        query(url, "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t SELECT g, NULL FROM generate_series(1, 50) g")
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            with release_context("r-1", "0004", ReleaseSettings(ledger_schema="Mig")):
                with pytest.raises(BackfillError, match=r"no checkpoint table Mig.checkpoints"):
                    backfill(conn, "t", "v = 1", progress=False)
        assert query(url, "SELECT count(*) FROM t WHERE v IS NULL") == [(50,)]
