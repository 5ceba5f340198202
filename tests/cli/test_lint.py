"""Declared phases of SQL files and the `migrator lint` gate (P505 mixed, P507 declared phase).

Alembic revisions are covered in tests/integration/test_alembic.py; these tests use plain SQL files.
"""

from __future__ import annotations

import json

import pytest

from migrator import api
from migrator.config import Config
from migrator.classify.lint import check_declared, parse_phase, sql_declared_phase
from migrator.phases import Phase, Severity
from tests._cli import run

EXPAND = "-- migrator: phase expand\nSET lock_timeout = '1s';\nALTER TABLE users ADD COLUMN nickname text;\n"
CONTRACT_AS_EXPAND = "-- migrator: phase expand\nSET lock_timeout = '1s';\nALTER TABLE users DROP COLUMN name;\n"
EXPAND_AS_CONTRACT = "-- migrator: phase contract\nSET lock_timeout = '1s';\nALTER TABLE users ADD COLUMN nickname text;\n"
MIXED = ("-- migrator: phase contract\nSET lock_timeout = '1s';\nALTER TABLE users ADD COLUMN nickname text;\n"
         "ALTER TABLE users DROP COLUMN name;\n")
MIXED_AS_EXPAND = MIXED.replace("phase contract", "phase expand")


def lint(sql: str, config: Config | None = None, name: str = "change.sql"):
    config = config or Config()
    report = api.Report([api.classify_source(sql, name, config)])
    api.check_declared_phases(report, config)
    return report.migrations[0], api.exit_code(report, config, lint=True)


def rules(migration, *, suppressed: bool = False) -> list[str]:
    found = [f for s in migration.statements for f in s.findings] + migration.findings
    return [f.rule for f in found if (f.suppressed is not None) == suppressed]


# --- reading the declaration -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, phase", [
    ("-- migrator: phase expand\nSELECT 1;", Phase.EXPAND),
    ("SELECT 1; -- migrator: phase MIGRATE", Phase.MIGRATE),
    ("--migrator:phase contract\n", Phase.CONTRACT),
    ("-- Migrator: Phase Contract;\n", Phase.CONTRACT),
    ("-- migrator: phase expand\n-- migrator: phase expand\n", Phase.EXPAND),
    ("-- migrator: ignore C317 reason: phase expand\n", None),
    ("SELECT 'phase';\n", None),
])
def test_sql_declaration(text, phase):
    assert sql_declared_phase(text) == (phase, None)


@pytest.mark.parametrize("text, error", [
    ("-- migrator: phase expnad\n", "line 1: `-- migrator: phase`: invalid declared phase 'expnad'"),
    ("SELECT 1;\n-- migrator: phase\n", "line 2: `-- migrator: phase`: invalid declared phase ''"),
    ("-- migrator: phase none\n", "invalid declared phase 'none'"),
    ("-- migrator: phase expand\n-- migrator: phase contract\n", "more than one phase: expand (line 1), contract (line 2)"),
])
def test_invalid_sql_declaration(text, error):
    phase, message = sql_declared_phase(text)
    assert phase is None and error in message


def test_parse_phase():
    assert parse_phase(" Expand ") is Phase.EXPAND
    for bad in ("none", "", "expanded", None, 1):
        with pytest.raises(ValueError, match="expected expand, migrate or contract"):
            parse_phase(bad)


def test_declaration_in_classify_and_classify_paths(tmp_path):
    assert api.classify(EXPAND).migrations[0].declared_phase is Phase.EXPAND
    path = tmp_path / "0001.sql"
    path.write_text(CONTRACT_AS_EXPAND)
    (migration,) = api.classify_paths([str(path)]).migrations
    assert (migration.declared_phase, migration.phase) == (Phase.EXPAND, Phase.CONTRACT)
    assert "P507" not in rules(migration)  # only lint compares


def test_invalid_declaration_is_a_finding_not_an_error():
    migration, code = lint("-- migrator: phase expnad\nALTER TABLE users ADD COLUMN nickname text;\n")
    assert migration.error is None and migration.declared_phase is None
    assert rules(migration).count("P507") == 1
    assert code == 1


# --- the check ---------------------------------------------------------------------------------------------


def test_agreeing_declaration_passes():
    migration, code = lint(EXPAND)
    assert (migration.declared_phase, migration.phase) == (Phase.EXPAND, Phase.EXPAND)
    assert "P507" not in rules(migration)
    assert code == 0


def test_later_phase_than_declared_fails():
    migration, code = lint(CONTRACT_AS_EXPAND)
    (finding,) = [f for f in migration.findings if f.rule == "P507"]
    assert finding.message.startswith("declared expand, but its statements are contract")
    assert finding.severity is Severity.ERROR
    assert code == 1


def test_earlier_phase_than_declared_fails():
    migration, code = lint(EXPAND_AS_CONTRACT)
    (finding,) = [f for f in migration.findings if f.rule == "P507"]
    assert "could run in an earlier phase" in finding.message
    assert code == 1


def test_mixed_migration_fails_lint_even_when_declared_right():
    migration, code = lint(MIXED)
    assert migration.mixed and "P505" in rules(migration) and "P507" not in rules(migration)
    assert code == 1


def test_mixed_migration_declared_too_early_is_also_p507():
    """Suppressing P505 must not hide that a contract statement would run in the expand phase."""
    sql = "-- migrator: ignore P505 reason: small table\n" + MIXED_AS_EXPAND
    migration, code = lint(sql)
    assert "P505" in rules(migration, suppressed=True)
    assert "P507" in rules(migration)
    assert code == 1


def test_p507_and_p505_suppressed_with_reason_pass():
    sql = ("-- migrator: ignore P507, mixed-migration reason: one-off cleanup reviewed by the DBA\n"
           "-- migrator: ignore C317 reason: name unused since release 41\n" + MIXED_AS_EXPAND)
    migration, code = lint(sql, Config(fail_on=Severity.ERROR))
    assert {"P505", "P507"} <= set(rules(migration, suppressed=True))
    assert code == 0


def test_p507_suppression_without_reason_keeps_the_finding():
    migration, code = lint("-- migrator: ignore P507\n" + CONTRACT_AS_EXPAND)
    assert "P507" in rules(migration) and "P508" in rules(migration)
    assert code == 1


def test_no_declaration_no_check():
    migration, code = lint("ALTER TABLE users ADD COLUMN nickname text;\n")
    assert migration.declared_phase is None and "P507" not in rules(migration)
    assert code == 0


def test_phase_none_agrees_with_any_declaration():
    migration, code = lint("-- migrator: phase contract\nSET lock_timeout = '1s';\nANALYZE users;\n")
    assert migration.phase is Phase.NONE and "P507" not in rules(migration)
    assert code == 0


def test_disabled_p507_and_check_is_idempotent():
    migration, code = lint(CONTRACT_AS_EXPAND, Config(disable={"P507"}, fail_on=None))
    assert "P507" not in rules(migration) and code == 0
    migration, _ = lint(CONTRACT_AS_EXPAND)
    check_declared(migration, Config())
    assert rules(migration).count("P507") == 1


def test_input_errors_win_over_lint():
    report = api.Report([api.classify_source("SELECT $$ never closed", "broken.sql", Config())])
    api.check_declared_phases(report, Config())
    assert api.exit_code(report, Config(), lint=True) == 2


def test_lint_ignores_fail_on_for_p505_p507():
    migration, code = lint(CONTRACT_AS_EXPAND, Config(fail_on=None))
    assert code == 1
    report = api.Report([api.classify_source(CONTRACT_AS_EXPAND, "x.sql", Config(fail_on=None))])
    assert api.exit_code(report, Config(fail_on=None), lint=False) == 0


def test_summary_verdicts():
    report = api.Report([api.classify_source(sql, name, Config()) for name, sql in
                         [("ok.sql", EXPAND), ("late.sql", CONTRACT_AS_EXPAND), ("mixed.sql", MIXED),
                          ("plain.sql", "ALTER TABLE users ADD COLUMN nickname text;\n")]])
    api.check_declared_phases(report, Config())
    assert api.phase_summary(report) == [
        "ok.sql expand (declared expand) ok",
        "late.sql contract (declared expand) MISMATCH",
        "mixed.sql contract (mixed) (declared contract) MIXED",
        "plain.sql expand (not declared) ok",
    ]
    assert api.demo_exit_code(report) == 1


# --- the command line --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sql, code", [
    (EXPAND, 0),
    (CONTRACT_AS_EXPAND, 1),
    (EXPAND_AS_CONTRACT, 1),
    (MIXED, 1),
])
def test_cli_lint_exit_codes(tmp_path, sql, code):
    path = tmp_path / "change.sql"
    path.write_text(sql)
    result = run("lint", "--fail-on", "never", str(path))
    assert result.code == code, (result.out, result.err)


def test_cli_classify_does_not_fail_on_declared_phase(tmp_path):
    path = tmp_path / "change.sql"
    path.write_text(CONTRACT_AS_EXPAND)
    assert run("classify", "--fail-on", "never", str(path)).code == 0


def test_cli_lint_json_shows_declared_phase_and_p507(tmp_path):
    path = tmp_path / "change.sql"
    path.write_text(CONTRACT_AS_EXPAND)
    result = run("lint", "--format", "json", str(path))
    assert result.code == 1
    (migration,) = json.loads(result.out)["migrations"]
    assert migration["declared_phase"] == "expand" and migration["phase"] == "contract"
    assert [f["rule"] for f in migration["findings"]] == ["P507"]
