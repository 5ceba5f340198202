"""What the plan says about each step: findings the applier handles (P501) are not risks, contract findings say
what must hold once blue is gone, `--fail-on` turns findings into exit 1, and every scan, rewrite, index build
and backfill carries the table's size and an estimated duration (migrator.release.estimate)."""

from __future__ import annotations

import json

import pytest

from tests._cli import run
from tests.test_release_commands import (  # noqa: F401 - fixtures
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


@pytest.mark.postgres
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


@pytest.mark.postgres
def test_plan_fail_on(demo):
    repo, config, ops, url, _ = demo
    env = {"MIGRATOR_DATABASE_URL": url}
    base = ("plan", "--blue", "blue", "--no-record", "--config", str(config))
    plain = run(*base, cwd=repo, env=env)
    assert plain.code == 0 and "C317" in plain.out  # findings, but no --fail-on: exit 0
    warning = run(*base, "--fail-on", "warning", cwd=repo, env=env)
    assert warning.code == 1, warning.err
    assert warning.out == plain.out  # the same plan on stdout
    assert "at or above warning" in warning.err and "C317" in warning.err
    error = run(*base, "--fail-on", "error", "-f", "json", cwd=repo, env=env)
    assert error.code == 0, error.err  # the demo's worst finding is a warning
    assert json.loads(error.out)["command"] == "plan"
    bad = run(*base, "--fail-on", "info", cwd=repo, env=env)
    assert bad.code == 2 and "'error', 'warning'" in bad.err
