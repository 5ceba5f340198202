"""Core engine behaviour: statement splitting, fail-closed coverage, suppressions, migration phase."""

from __future__ import annotations

import pytest

from migrator.config import Config, config_from_mapping
from migrator.classify.engine import classify_sql
from migrator.errors import ConfigError, InputError
from migrator.phases import Phase, Severity
from migrator.sql.split import split_statements


def findings(report):
    return [f.rule for s in report.statements for f in s.findings if f.suppressed is None] + [
        f.rule for f in report.findings if f.suppressed is None
    ]


def test_split_keeps_dollar_quoted_semicolons_and_positions():
    text = "SELECT 1;\n  CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\nSELECT 2"
    stmts = split_statements(text)
    assert [s.line for s in stmts] == [1, 2, 3]
    assert stmts[1].column == 3
    assert stmts[1].sql.endswith("LANGUAGE sql")
    assert stmts[2].sql == "SELECT 2"


def test_unterminated_dollar_quote_is_an_input_error():
    with pytest.raises(InputError, match="dollar"):
        classify_sql("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1;", "x.sql")


def test_empty_text_is_a_migration_without_statements():
    report = classify_sql("   \n", "x.sql")
    assert report.phase.label == "none" and report.statements == []


def test_garbage_is_unclassified_contract_not_a_crash():
    report = classify_sql("THIS IS NOT SQL ((;", "x.sql")
    assert report.phase is Phase.CONTRACT
    assert findings(report) == ["U000"]
    assert report.statements[0].findings[0].severity is Severity.ERROR


def test_one_bad_statement_does_not_hide_the_others():
    report = classify_sql("SELECT (((;\nALTER TABLE users DROP COLUMN name;", "x.sql")
    assert [s.phase for s in report.statements] == [Phase.CONTRACT, Phase.CONTRACT]
    assert "C317" in report.statements[1].rules


def test_alter_action_nobody_understands_fails_closed():
    # DROP COLUMN is understood; ENABLE ROW LEVEL SECURITY is not claimed by any rule.
    report = classify_sql("ALTER TABLE users DROP COLUMN a, ENABLE ROW LEVEL SECURITY;", "x.sql")
    assert "U000" in report.statements[0].rules


def test_deep_nesting_and_long_expressions_do_not_crash():
    deep = "SELECT " + "(" * 3000 + "1" + ")" * 3000 + ";"
    long = "SELECT " + "+".join(["1"] * 20000) + ";"
    report = classify_sql(deep + "\n" + long, "x.sql")
    assert len(report.statements) == 2
    assert report.statements[0].phase is Phase.CONTRACT  # not understood: fail closed


def test_suppression_with_reason_applies_to_the_next_statement_only():
    sql = (
        "-- migrator: ignore C317 reason: column unused since v3\n"
        "ALTER TABLE users DROP COLUMN a;\n"
        "ALTER TABLE users DROP COLUMN b;\n"
    )
    report = classify_sql(sql, "x.sql")
    assert findings(report).count("C317") == 1
    assert report.statements[0].findings[0].suppressed == "column unused since v3"


def test_trailing_suppression_and_names():
    sql = "ALTER TABLE users DROP COLUMN a; -- migrator: ignore drop-column reason: reviewed\n"
    report = classify_sql(sql, "x.sql")
    assert "C317" not in findings(report)


def test_suppression_without_reason_suppresses_nothing_and_is_reported():
    report = classify_sql("-- migrator: ignore C317\nALTER TABLE users DROP COLUMN a;", "x.sql")
    assert "C317" in findings(report)
    assert "P508" in findings(report)


def test_suppression_keeps_the_phase():
    report = classify_sql("-- migrator: ignore all reason: reviewed\nALTER TABLE users DROP COLUMN a;", "x.sql")
    assert report.phase is Phase.CONTRACT


def test_mixed_migration_and_its_suppression():
    sql = "UPDATE users SET a = 1 WHERE id < 10;\nALTER TABLE users DROP COLUMN b;"
    report = classify_sql(sql, "x.sql")
    assert report.mixed and report.phase is Phase.CONTRACT
    assert "P505" in findings(report)
    sup = classify_sql("-- migrator: ignore P505 reason: tiny table\n" + sql, "x.sql")
    assert sup.mixed and "P505" not in findings(sup)


def test_config_severity_override_and_disable():
    config = config_from_mapping({"severity": {"drop-column": "error"}, "disable": ["P501"]})
    report = classify_sql("ALTER TABLE users DROP COLUMN a;", "x.sql", config)
    by_rule = {f.rule: f.severity for f in report.statements[0].findings}
    assert by_rule["C317"] is Severity.ERROR
    assert "P501" not in by_rule
    # disabling a rule removes its finding, never its classification
    config = config_from_mapping({"disable": ["C317"]})
    report = classify_sql("ALTER TABLE users DROP COLUMN a;", "x.sql", config)
    assert report.phase is Phase.CONTRACT and "C317" not in findings(report)



def test_migration_level_findings_follow_severity_and_disable():
    """P505 and P508 run through the registry like every rule: `severity` and `disable` apply to them (P508
    used to ignore both)."""
    sql = "-- migrator: ignore C317\nUPDATE users SET a = 1 WHERE id < 10;\nALTER TABLE users DROP COLUMN b;"
    config = config_from_mapping({"severity": {"P508": "warning", "mixed-migration": "error"}})
    by_rule = {f.rule: f.severity for f in classify_sql(sql, "x.sql", config).findings}
    assert by_rule == {"P505": Severity.ERROR, "P508": Severity.WARNING}
    report = classify_sql(sql, "x.sql", config_from_mapping({"disable": ["P508", "P505"]}))
    assert report.mixed and report.findings == []


@pytest.mark.parametrize(
    "section, message",
    [
        ({"disable": ["NOPE"]}, "unknown rule"),
        ({"severity": {"C317": "fatal"}}, "unknown severity"),
        ({"dialect": "oracle"}, "unsupported dialect"),
        ({"postgres_version": "fifteen"}, "postgres_version"),
    ],
)
def test_bad_config_is_a_config_error(section, message):
    with pytest.raises(ConfigError, match=message):
        config_from_mapping(section)


def test_load_config_reads_tool_migrator(tmp_path):
    from migrator.config import load_config

    (tmp_path / "pyproject.toml").write_text('[tool.migrator]\npostgres_version = 10\nfail_on = "warning"\n')
    cfg = load_config(start=tmp_path)
    assert cfg.settings.postgres_version == 10 and cfg.fail_on is Severity.WARNING
    (tmp_path / "pyproject.toml").write_text("[tool.migrator\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(start=tmp_path)


def test_load_config_without_pyproject_gives_defaults(tmp_path):
    from migrator.config import load_config

    assert load_config(start=tmp_path).fail_on is Config().fail_on


def test_comments_only_is_a_migration_without_statements():
    report = classify_sql("-- nothing here\n/* nor here */\n", "x.sql")
    assert report.phase.label == "none" and report.statements == [] and not report.findings


def test_facts_carry_across_the_files_of_one_run(tmp_path):
    from migrator.api import classify_paths

    (tmp_path / "001_check.sql").write_text(
        "ALTER TABLE users ADD CONSTRAINT users_name_nn CHECK (name IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE users VALIDATE CONSTRAINT users_name_nn;\n"
    )
    (tmp_path / "002_not_null.sql").write_text("ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n")
    second = classify_paths([str(tmp_path)]).migrations[1]
    set_not_null = second.statements[0]
    assert set_not_null.phase is Phase.CONTRACT
    assert {f.rule: f.severity for f in set_not_null.findings}["C305"] is Severity.INFO  # no scan: CHECK proves it
    alone = classify_paths([str(tmp_path / "002_not_null.sql")]).migrations[0].statements[0]
    assert {f.rule: f.severity for f in alone.findings}["C305"] is Severity.ERROR


def test_suppression_comment_is_case_insensitive():
    report = classify_sql("-- Migrator: IGNORE C317 reason: reviewed\nALTER TABLE users DROP COLUMN a;", "x.sql")
    assert "C317" not in findings(report)


def test_table_column_names_only_tables():
    report = classify_sql("DROP FUNCTION f();\nDROP INDEX users_email_idx;\nDROP TABLE old_users;", "x.sql")
    assert [s.table for s in report.statements] == [None, None, "old_users"]
