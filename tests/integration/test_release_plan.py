"""`migrator plan`: phases, statements with lock / table / estimated rows / rewrite / risk, gates, the ledger
record and its idempotency, the three formats, and the CLI (stdout, stderr, exit codes, import-light help)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests._cli import TIMEOUT, run
from tests.integration.test_release_commands import (  # noqa: F401 - fixtures
    PASSWORD, ctx_for, demo, demo_template, events, fresh_database, query, to_blue, write_release_config)


# --- pure parts ---------------------------------------------------------------------------------------------------


def test_split_phases_follows_alembic_order():
    from migrator.release.plan import split_phases

    apply = [("a", "expand"), ("b", "none"), ("c", "migrate"), ("d", "expand"), ("e", "none")]
    assert split_phases(apply, [("f", "contract"), ("g", "none")]) == {
        "expand": ["a", "b"], "migrate": ["c", "d", "e"], "contract": ["f", "g"]}
    assert split_phases([("m", "migrate")], []) == {"expand": [], "migrate": ["m"], "contract": []}
    assert split_phases([], []) == {"expand": [], "migrate": [], "contract": []}


def test_statement_risk_from_findings_and_table_size():
    from migrator.model import Finding
    from migrator.phases import Lock, Rewrite, Severity
    from migrator.release.plan import statement_risk

    warn = Finding("C317", "drop-column", Severity.WARNING, "drops")
    err = Finding("C301", "x", Severity.ERROR, "rewrites")
    assert statement_risk([], Lock.ACCESS_EXCLUSIVE, Rewrite.NONE, 10**9) == "low"
    assert statement_risk([warn], None, Rewrite.NONE, None) == "medium"
    assert statement_risk([err], None, Rewrite.NONE, None) == "high"
    assert statement_risk([], Lock.ACCESS_EXCLUSIVE, Rewrite.SCAN, 200_000) == "medium"
    assert statement_risk([], Lock.SHARE, Rewrite.REWRITE, 5_000_000) == "high"
    assert statement_risk([], Lock.ROW_EXCLUSIVE, Rewrite.REWRITE, 5_000_000) == "low"  # writes go on


def test_release_id_and_urls():
    from datetime import datetime, timezone

    from migrator.release.commands import libpq_url, new_release_id, safe_url

    moment = datetime(2026, 3, 1, 12, 30, 5, tzinfo=timezone.utc)
    assert new_release_id("0123456789abcdef", moment) == "r-20260301-123005-01234567"
    assert libpq_url("postgresql+psycopg://u:p@h/db") == "user=u password=p dbname=db host=h"
    assert libpq_url("postgres+psycopg2://h/db") == "dbname=db host=h"
    assert PASSWORD not in safe_url(f"postgresql+psycopg://u:{PASSWORD}@h:5432/db")


# --- against the live database --------------------------------------------------------------------------------------


@pytest.mark.usefixtures("pg_server")
def test_plan_lays_out_phases_rows_and_gates_and_records_the_release(demo):
    from migrator.release import commands

    repo, config, ops, url, _ = demo
    query(url, "ANALYZE users")
    result = commands.plan(ctx_for(repo, config, url, blue="blue"))
    plan = result["plan"]
    assert result["state"] == "planned" and result["release_id"].startswith("r-")
    assert result["release_id"].endswith(result["green_sha"][:8])
    assert plan["blue_heads"] == ["0002"] and plan["green_head"] == "0005"
    assert [r["revision"] for r in plan["phases"]["expand"]] == ["0003"]
    assert [r["revision"] for r in plan["phases"]["migrate"]] == ["0004"]
    assert [r["revision"] for r in plan["phases"]["contract"]] == ["0005"]
    add = next(s for s in plan["phases"]["expand"][0]["statements"] if "ADD COLUMN" in s["sql"])
    assert add == {**add, "lock": "ACCESS EXCLUSIVE", "table": "users", "rows": 25, "rows_source": "reltuples",
                   "rewrite": "none", "risk": "low"}
    drop = next(s for s in plan["phases"]["contract"][0]["statements"] if "DROP COLUMN" in s["sql"])
    assert drop["risk"] == "medium" and drop["findings"][0]["rule"] == "C317"
    assert plan["risk"] == "medium"
    assert any("soak 0s" in g for g in plan["gates"]["contract"])
    assert any("schema fingerprint" in g for g in plan["gates"]["switch"])
    # the ledger
    row = query(url, "SELECT state, blue_ref, blue_sha, green_sha, revisions FROM migrator.releases")
    assert len(row) == 1 and row[0][0] == "planned" and row[0][1] == "blue" and row[0][3] == result["green_sha"]
    assert row[0][4] == {"blue_heads": ["0002"], "green_head": "0005", "expand": ["0003"], "migrate": ["0004"],
                         "contract": ["0005"]}
    assert events(url, result["release_id"]) == [("plan", "succeeded", False, None)]

    # idempotent: the same release again, nothing recorded
    again = commands.plan(ctx_for(repo, config, url, blue="blue"))
    assert again["result"] == "noop" and again["release_id"] == result["release_id"]
    assert again["plan"]["phases"] == plan["phases"]
    assert len(query(url, "SELECT 1 FROM migrator.releases")) == 1
    assert len(events(url, result["release_id"])) == 1


@pytest.mark.usefixtures("pg_server")
def test_plan_counts_small_tables_never_analysed(tmp_path):
    from migrator.release.plan import estimate_rows
    from migrator.release.commands import connect

    with fresh_database() as (url, _):
        query(url, "CREATE TABLE small (id int); INSERT INTO small SELECT generate_series(1, 42)")
        query(url, 'CREATE TABLE "Odd Name" (id int); INSERT INTO "Odd Name" VALUES (1); ANALYZE "Odd Name"')
        conn = connect(url)
        try:
            found = estimate_rows(conn, {"small", "public.small", '"Odd Name"', "missing", "bad..name"})
        finally:
            conn.close()
    assert found == {"small": (42, "count"), "public.small": (42, "count"), '"Odd Name"': (1, "reltuples"),
                     "missing": (None, None), "bad..name": (None, None)}


@pytest.mark.usefixtures("pg_server")
def test_a_second_release_while_one_is_in_flight_is_refused(demo):
    from migrator.release import commands
    from migrator.release.errors import PreconditionFailed

    repo, config, ops, url, _ = demo
    first = commands.plan(ctx_for(repo, config, url, blue="blue"))
    with pytest.raises(PreconditionFailed, match=rf"release {first['release_id']} is in flight .*'planned'.*"
                                                 r"run `migrator expand --evidence <compat evidence>` first"):
        commands.plan(ctx_for(repo, config, url, blue="blue", release_id="r-other"))


@pytest.mark.usefixtures("pg_server")
def test_plan_needs_blue_and_refuses_a_release_compat_would_refuse(demo):
    from migrator.compat.errors import CompatRefused
    from migrator.errors import UsageError
    from migrator.release import commands
    from tests._compat import git, revision

    repo, config, ops, url, _ = demo
    with pytest.raises(UsageError, match="plan needs --blue REF"):
        commands.plan(ctx_for(repo, config, url))
    # green declares an expand revision that drops blue's column
    git(repo, "checkout", "-q", "-b", "bad", "blue")
    (repo / "migrations" / "versions" / "0003_bad.py").write_text(
        revision("0003", "0002", "ALTER TABLE users DROP COLUMN name", phase="expand"), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "bad")
    with pytest.raises(CompatRefused) as info:
        commands.plan(ctx_for(repo, config, url, blue="blue"))
    assert info.value.exit_code == 1 and "0003" in str(info.value)
    assert query(url, "SELECT count(*) FROM migrator.releases")[0][0] == 0


@pytest.mark.usefixtures("pg_server")
def test_plan_no_record_writes_nothing(demo, monkeypatch):
    from migrator.release import commands

    monkeypatch.delenv("MIGRATOR_DATABASE_URL", raising=False)

    repo, config, ops, url, _ = demo
    result = commands.plan(ctx_for(repo, config, url, blue="blue", record=False))
    assert result["release_id"] is None and result["plan"]["rows_estimated"] is True
    assert query(url, "SELECT to_regnamespace('migrator')") == [(None,)]
    # without a database: blue's heads come from blue's commit, rows are unknown
    offline = commands.plan(ctx_for(repo, config, None, blue="blue", record=False))
    assert offline["plan"]["blue_heads"] == ["0002"] and offline["plan"]["rows_estimated"] is False
    assert offline["plan"]["phases"].keys() == result["plan"]["phases"].keys()


@pytest.mark.usefixtures("pg_server")
def test_live_fingerprint_leaves_the_ledger_out(demo):
    from migrator.db.fingerprint import schema_fingerprint
    from migrator.release.commands import connect, live_fingerprint
    from migrator.release.ledger import Ledger

    repo, config, ops, url, _ = demo
    before = schema_fingerprint(url)
    conn = connect(url)
    try:
        Ledger(conn).ensure()
        assert schema_fingerprint(url) != before
        assert live_fingerprint(conn, "migrator") == before
        assert schema_fingerprint(conn, exclude_schema="migrator") == before  # the one fingerprint, on a connection
        assert schema_fingerprint(url, exclude_schema="migrator") == before
    finally:
        conn.close()


# --- formats and the CLI ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("pg_server")
def test_plan_cli_formats(demo):
    repo, config, ops, url, _ = demo
    query(url, "ANALYZE users")
    env = {"MIGRATOR_DATABASE_URL": url}
    text = run("plan", "--blue", "blue", "--config", str(config), cwd=repo, env=env)
    assert text.code == 0, text.err
    assert "EXPAND  (migrator expand): 0003" in text.out and "CONTRACT  (migrator contract): 0005" in text.out
    assert "ACCESS EXCLUSIVE" in text.out and "ALTER TABLE users ADD COLUMN full_name TEXT" in text.out
    assert "next: migrator expand" in text.out and "statements without schema effect" in text.out
    assert PASSWORD not in text.out + text.err

    md = run("plan", "--blue", "blue", "--config", str(config), "--format", "markdown", cwd=repo, env=env)
    assert md.code == 0, md.err
    assert md.out.startswith("### migrator release plan `r-")
    assert "| revision | statement | lock | table | est. rows | rewrite | risk |" in md.out
    assert "| `0005` | `ALTER TABLE users DROP COLUMN IF EXISTS name` | ACCESS EXCLUSIVE | users | 25 | none | medium |" in md.out
    assert "- [ ] soak 0s (none) since the switch" in md.out and "**C317**" in md.out

    js = run("plan", "--blue", "blue", "--config", str(config), "-f", "json", cwd=repo, env=env)
    assert js.code == 0, js.err
    data = json.loads(js.out)
    assert data["command"] == "plan" and data["result"] == "noop" and data["state"] == "planned"
    update = data["plan"]["phases"]["migrate"][0]["statements"][1]
    assert update["findings"] == [] and update["reviewed"][0]["rule"] == "M203"  # suppressed with a reason
    assert "**M203** (warning): reviewed, suppressed: online the backfill runs in committed batches" in md.out


@pytest.mark.usefixtures("pg_server")
def test_cli_exit_codes(demo):
    repo, config, ops, url, _ = demo
    env = {"MIGRATOR_DATABASE_URL": url}
    missing = run("expand", "--config", str(config), cwd=repo, env=env)
    assert missing.code == 1 and missing.out == ""
    assert "no release is planned; run `migrator plan --blue <ref>` first" in missing.err
    usage = run("plan", "--config", str(config), cwd=repo, env=env)
    assert usage.code == 2 and "plan needs --blue REF" in usage.err
    force = run("switch", "--force", "--config", str(config), cwd=repo, env=env)
    assert force.code == 2 and "--force needs --reason" in force.err
    back = run("switch", "--to", "blue", "--config", str(config), cwd=repo, env=env)
    assert back.code == 2 and "migrator rollback" in back.err
    nodb = run("status", cwd=repo, env={"MIGRATOR_DATABASE_URL": ""})
    assert nodb.code == 2 and "--database-url" in nodb.err
    as_json = run("expand", "--config", str(config), "-f", "json", cwd=repo, env=env)
    assert as_json.code == 1 and json.loads(as_json.out)["result"] == "refused"
    assert all(PASSWORD not in r.out + r.err for r in (missing, usage, force, back, as_json))


def test_help_of_the_release_commands_stays_light():
    code = (
        "import sys\n"
        "from migrator.cli import main\n"
        "for cmd in ('plan', 'expand', 'migrate', 'switch', 'rollback', 'contract', 'status'):\n"
        "    try:\n        main([cmd, '--help'])\n    except SystemExit as e:\n        assert e.code == 0, e.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlglot', 'alembic', 'sqlalchemy', 'psycopg'})\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "[]", proc.stderr
