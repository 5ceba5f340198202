"""`migrator rule ID` explains a rule; findings link to the rule's page (text `see:`, SARIF `helpUri`), with a
base URL from --rules-url, MIGRATOR_RULES_URL or [tool.migrator] rules_url; `migrator rules -f` offers only
the formats it has."""

from __future__ import annotations

import json
from pathlib import Path

from tests._cli import assert_one_line_error, run

ROOT = Path(__file__).resolve().parents[2]
PAGES = "https://github.com/migrator-bluegreen/migrator/blob/main/docs/rules/"  # the project's repository
DROP = "ALTER TABLE users DROP COLUMN name;\n"


def test_rule_explains_phase_lock_why_alternative_and_examples(tmp_path):
    result = run("rule", "C317", cwd=tmp_path)
    assert result.code == 0, result.err
    out = result.out
    assert out.startswith("C317 drop-column: ")
    for expected in ("phase     contract", "severity  warning", "lock      ACCESS EXCLUSIVE", "\nWhy\n",
                     "\nSafe alternative\n", "switch traffic, wait until blue is gone",
                     "Examples: flagged", "ALTER TABLE users DROP COLUMN name;", "Examples: not flagged",
                     "ALTER TABLE users DROP CONSTRAINT users_name_key;"):
        assert expected in out, expected
    assert out.rstrip().splitlines()[-1] == f"docs: {PAGES}C317.md"
    assert (ROOT / "docs" / "rules" / "C317.md").is_file()  # the page the link names


def test_rule_json_and_lookup_by_name(tmp_path):
    result = run("rule", "drop-column", "--format", "json", "--rules-url", "https://docs.example/rules/",
                 cwd=tmp_path)
    assert result.code == 0, result.err
    info = json.loads(result.out)
    assert {k: info[k] for k in ("rule", "name", "phase", "severity", "lock")} == {
        "rule": "C317", "name": "drop-column", "phase": "contract", "severity": "warning",
        "lock": "ACCESS EXCLUSIVE"}
    assert "ORM column lists" in info["why"] and "then drop it" in info["instead"]
    assert info["url"] == "https://docs.example/rules/C317.md"
    assert {"title": "plain drop", "flagged": True, "sql": "ALTER TABLE users DROP COLUMN name;"} in info["examples"]
    assert any(not e["flagged"] for e in info["examples"])


def test_unknown_rule_is_a_one_line_usage_error(tmp_path):
    assert_one_line_error(run("rule", "C999", cwd=tmp_path), code=2, contains="unknown rule 'C999'")
    assert_one_line_error(run("rule", cwd=tmp_path), code=2)


def test_rules_offers_only_text_and_json(tmp_path):
    help_text = run("rules", "--help", cwd=tmp_path).out
    assert "<text|json>" in help_text and "sarif" not in help_text
    for fmt in ("sarif", "github"):
        assert_one_line_error(run("rules", "-f", fmt, cwd=tmp_path), code=2, contains="'text', 'json'")


def test_text_findings_link_to_the_rule_page(tmp_path):
    (tmp_path / "m.sql").write_text(DROP)
    default = run("classify", "m.sql", cwd=tmp_path)
    assert f"\n        see: {PAGES}C317.md\n" in default.out
    # a file: base into the working directory is shown as a short relative path
    local = run("classify", str(tmp_path / "m.sql"), "--rules-url", (ROOT / "docs" / "rules").as_uri(), cwd=ROOT)
    assert "\n        see: docs/rules/C317.md\n" in local.out

    env = run("classify", "m.sql", cwd=tmp_path, env={"MIGRATOR_RULES_URL": "https://wiki.example/m/{id}"})
    assert "see: https://wiki.example/m/C317\n" in env.out
    option = run("classify", "m.sql", "--rules-url", "https://o.example/r", cwd=tmp_path,
                 env={"MIGRATOR_RULES_URL": "https://wiki.example/m/{id}"})
    assert "see: https://o.example/r/C317.md\n" in option.out  # the option wins over the variable
    off = run("classify", "m.sql", "--rules-url", "", cwd=tmp_path)
    assert "see:" not in off.out and "C317" in off.out


def test_config_rules_url_and_sarif_help_uri(tmp_path):
    (tmp_path / "m.sql").write_text(DROP)
    (tmp_path / "pyproject.toml").write_text('[tool.migrator]\nrules_url = "https://cfg.example/rules/"\n')
    result = run("classify", "m.sql", "--format", "sarif", cwd=tmp_path)
    driver = json.loads(result.out)["runs"][0]["tool"]["driver"]
    uris = {r["id"]: r.get("helpUri") for r in driver["rules"]}
    assert uris["C317"] == "https://cfg.example/rules/C317.md" and uris["U000"] == "https://cfg.example/rules/U000.md"
    assert "see: https://cfg.example/rules/C317.md" in run("classify", "m.sql", cwd=tmp_path).out

    (tmp_path / "pyproject.toml").write_text("[tool.migrator]\nrules_url = 3\n")
    assert_one_line_error(run("classify", "m.sql", cwd=tmp_path), code=2, contains="rules_url")
