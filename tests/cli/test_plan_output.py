"""What the plan says about each step: findings the applier handles (P501) are not risks, contract findings say
what must hold once blue is gone, `--fail-on` turns findings into exit 1, and every scan, rewrite, index build
and backfill carries the table's size and an estimated duration (migrator.release.estimate)."""

from __future__ import annotations

import json

import pytest

from tests._cli import run
from tests.integration.test_release_commands import (  # noqa: F401 - fixtures
    ctx_for, demo, demo_template, fresh_database, query)


# --- pure parts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule, message, expected", [
    ("C317", "drops column name of users; blue still reads and writes it",
     "drops column name of users; at contract time no running code may read or write the column"),
    ("C313", "drops constraint users_x of users: blue may rely on it",
     "drops constraint users_x of users; at contract time no running code may rely on the constraint"),
    ("C316", "drops table t: blue still reads and writes it; the data is gone",
     "drops table t; at contract time no running code may read or write the table; its data is gone"),
    ("C320", "renames column t.a to b: blue's queries that name a fail",
     "renames column t.a to b; at contract time no running code may use the old name"),
    ("X999", "does something: blue breaks", "does something; at contract time no running code may depend on what "
                                            "it removes or changes"),
])
def test_contract_findings_say_what_must_hold(rule, message, expected):
    from migrator.release.plan import contract_message

    assert contract_message(rule, message) == expected
    assert "blue" not in expected


def test_p501_is_handled_unless_the_applier_runs_without_lock_timeout():
    from migrator.model import Finding
    from migrator.phases import Severity
    from migrator.release.plan import handled_by_applier
    from migrator.release.settings import ReleaseSettings

    p501 = Finding("P501", "missing-lock-timeout", Severity.WARNING, "takes ACCESS EXCLUSIVE without lock_timeout")
    how = handled_by_applier(p501, ReleaseSettings(lock_timeout_ms=750, lock_retries=4))
    assert how == "migrator applies each revision with lock_timeout 750 ms and up to 4 retries"
    assert handled_by_applier(p501, ReleaseSettings(no_lock_timeout=True)) is None
    assert handled_by_applier(Finding("C317", "drop-column", Severity.WARNING, "x"), ReleaseSettings()) is None


def test_findings_at_counts_levels_and_failing_preflight():
    from migrator.release.plan import findings_at

    plan = {"phases": {"expand": [], "migrate": [], "contract": [{"revision": "r5", "findings": [], "statements": [
        {"findings": [{"rule": "C317", "severity": "warning", "message": "m"},
                      {"rule": "E101", "severity": "info", "message": "m"}],
         "preflight": [{"fails": True, "message": "would fail: 3 rows"}, {"fails": False, "message": "ok"}]}]}]}}
    assert [f["rule"] for f in findings_at(plan, "error")] == ["preflight"]
    assert [f["rule"] for f in findings_at(plan, "warning")] == ["C317", "preflight"]


# --- against the live database --------------------------------------------------------------------------------------


def _without_lock_timeout(repo):
    """Green's expand revision without its own SET lock_timeout (the applier sets one)."""
    path = next((repo / "migrations" / "versions").glob("0003_*.py"))
    path.write_text(path.read_text().replace('    op.execute("SET lock_timeout = \'500ms\'")\n', ""))


@pytest.mark.usefixtures("pg_server")
def test_plan_speaks_to_each_step(demo):
    from migrator.release import commands

    repo, config, ops, url, _ = demo
    _without_lock_timeout(repo)
    query(url, "ANALYZE users")
    plan = commands.plan(ctx_for(repo, config, url, blue="blue", record=False))["plan"]
    expand = plan["phases"]["expand"][0]
    add = next(s for s in expand["statements"] if "ADD COLUMN" in s["sql"])
    assert "P501" not in {f["rule"] for f in add["findings"]}
    assert add["handled"] == [{"rule": "P501",
                               "how": "migrator applies each revision with lock_timeout 500 ms and up to 3 retries"}]
    assert add["risk"] == "low" and expand["risk"] == "low"
    contract = plan["phases"]["contract"][0]
    messages = [f["message"] for s in contract["statements"] for f in s["findings"]]
    assert messages and not [m for m in messages if "blue" in m.lower()]
    assert "drops column name of users; at contract time no running code may read or write the column" in messages

    text = run("plan", "--blue", "blue", "--no-record", "--config", str(config), cwd=repo,
               env={"MIGRATOR_DATABASE_URL": url})
    assert text.code == 0, text.err
    assert "P501 handled: migrator applies each revision with lock_timeout 500 ms" in text.out
    assert "blue still reads and writes" not in text.out


@pytest.mark.usefixtures("pg_server")
def test_plan_fail_on(demo):
    repo, config, ops, url, _ = demo
    env = {"MIGRATOR_DATABASE_URL": url}
    base = ("plan", "--blue", "blue", "--no-record", "--config", str(config))
    plain = run(*base, cwd=repo, env=env)
    assert plain.code == 0 and "C317" in plain.out  # findings, but no --fail-on: exit 0
    warning = run(*base, "--fail-on", "warning", cwd=repo, env=env)
    assert warning.code == 1, warning.err
    timed = lambda out: [ln for ln in out.splitlines() if ", estimate: " not in ln]  # noqa: E731 - rates vary
    assert timed(warning.out) == timed(plain.out)  # the same plan on stdout
    assert "at or above warning" in warning.err and "C317" in warning.err
    error = run(*base, "--fail-on", "error", "-f", "json", cwd=repo, env=env)
    assert error.code == 0, error.err  # the demo's worst finding is a warning
    assert json.loads(error.out)["command"] == "plan"
    bad = run(*base, "--fail-on", "info", cwd=repo, env=env)
    assert bad.code == 2 and "'error', 'warning'" in bad.err


# --- sizes and estimated durations ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("pg_server")
def test_estimates_on_a_real_table_are_positive_grow_with_it_and_say_so():
    from migrator.release.commands import connect
    from migrator.release.estimate import KINDS, estimate, sample_rates, table_sizes

    with fresh_database() as (url, _):
        query(url, "CREATE TABLE small (id bigint PRIMARY KEY, note text); "
                   "INSERT INTO small SELECT g, md5(g::text) FROM generate_series(1, 20000) g; "
                   "CREATE TABLE big (id bigint PRIMARY KEY, note text); "
                   "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 200000) g; ANALYZE small, big")
        conn = connect(url)
        try:
            sizes = table_sizes(conn, {"small", "big", "missing"})
            rates = sample_rates(conn, refresh=True)
            assert sample_rates(conn) is rates  # timed once per server
            temp = conn.execute("SELECT count(*) FROM pg_class WHERE relname = 'migrator_rate_sample'").fetchone()[0]
        finally:
            conn.close()
        with fresh_database() as (other_url, _):  # another database of the same server (a fleet): not timed again
            other = connect(other_url)
            try:
                assert sample_rates(other) is rates
            finally:
                other.close()
    assert temp == 0  # the sample is rolled back
    assert set(sizes) == {"small", "big"} and sizes["big"].rows == 200000
    assert sizes["big"].bytes > 5 * sizes["small"].bytes > 0 and sizes["big"].total_bytes > sizes["big"].bytes
    assert rates is not None and min(rates.scan_bytes_per_s, rates.rewrite_bytes_per_s, rates.index_rows_per_s,
                                     rates.update_rows_per_s) > 0
    for kind in KINDS:
        small, big = estimate(kind, sizes["small"], rates), estimate(kind, sizes["big"], rates)
        assert 0 < small.seconds < big.seconds, kind
        shown = big.to_dict()
        assert shown["estimate"] is True and shown["text"][0] in "~<" and shown["text"].endswith(", estimate")
        assert "sampled on this server" in shown["basis"]
    assert estimate("scan", None, rates) is None  # a table this release creates: nothing to scan yet


def test_estimate_text_marks_every_duration_as_an_estimate():
    from migrator.release.estimate import Estimate

    assert [Estimate("scan", s, "").text for s in (0.01, 2.34, 150, 7200)] == [
        "<0.1 s, estimate", "~2.3 s, estimate", "~2.5 min, estimate", "~2.0 h, estimate"]


@pytest.mark.usefixtures("pg_server")
def test_plan_shows_table_sizes_and_estimated_durations(demo):
    from migrator.release import commands

    repo, config, ops, url, _ = demo
    query(url, "INSERT INTO users (name, email) SELECT 'n' || g, 'e' || g || '@x.invalid' "
               "FROM generate_series(1, 20000) g; ANALYZE users")
    plan = commands.plan(ctx_for(repo, config, url, blue="blue", record=False))["plan"]
    users = plan["tables"]["users"]
    assert users["rows"] >= 20000 and users["bytes"] > 0
    assert plan["rates"]["sample_rows"] > 0
    backfill = next(s for s in plan["phases"]["migrate"][0]["statements"] if s["sql"].lstrip().startswith("UPDATE"))
    assert backfill["estimate"]["kind"] == "backfill" and backfill["estimate"]["seconds"] > 0
    assert backfill["size_bytes"] == users["bytes"]
    validate = next(s for s in plan["phases"]["contract"][0]["statements"] if "VALIDATE" in s["sql"])
    assert validate["estimate"]["kind"] == "scan" and validate["estimate"]["text"].endswith(", estimate")
    add = next(s for s in plan["phases"]["expand"][0]["statements"] if "ADD COLUMN" in s["sql"])
    assert add["estimate"] is None  # catalog only: no work to time

    env = {"MIGRATOR_DATABASE_URL": url}
    text = run("plan", "--blue", "blue", "--no-record", "--config", str(config), cwd=repo, env=env)
    assert text.code == 0, text.err
    assert "tables: users " in text.out and " rows, " in text.out
    assert ", estimate: backfill of users under ROW EXCLUSIVE; updates " in text.out
    assert ", estimate: scan of users under SHARE UPDATE EXCLUSIVE; reads " in text.out
    md = run("plan", "--blue", "blue", "--no-record", "--config", str(config), "-f", "markdown", cwd=repo, env=env)
    assert "Estimated durations (how long each lock is held" in md.out and "Tables: `users` " in md.out
