"""Bad input, through the real CLI (a subprocess) and through the API.

Input the tool cannot use is exit 2 with one line on stderr starting `migrator:`, never a traceback and
never a hang. SQL that reads fine but means nothing is not an input error: it is classified U000
(unclassified, contract) and exits 1.
"""

from __future__ import annotations

import json

import pytest

from migrator import api
from migrator.config import load_config
from migrator.errors import ConfigError, InputError
from tests._cli import assert_one_line_error, run

LONG_EXPRESSION = "SELECT " + "+".join(["1"] * 20_000) + ";\n"
DEEP_PARENS = "SELECT " + "(" * 3_000 + "1" + ")" * 3_000 + ";\n"

UNREADABLE = {  # file name -> (bytes, what stderr says)
    "binary.sql": (b"\x00\x01\x02\x03PGDMP\x00", "binary"),
    "latin1.sql": ("UPDATE t SET name = 'café';\n".encode("latin-1"), "not UTF-8"),
    "dollar.sql": (b"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1;\n", "dollar-quoted"),
    "dollar_tag.sql": (b"CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $$;\n", "$body$"),
    "string.sql": (b"SELECT 1;\nINSERT INTO t VALUES ('abc);\n", "string literal"),
    "identifier.sql": (b'ALTER TABLE "users ADD COLUMN a int;\n', "quoted identifier"),
    "comment.sql": (b"SELECT 1;\n/* never closed\n", "comment"),
}


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---- the CLI ---------------------------------------------------------------------------------------


def test_missing_path(tmp_path):
    assert_one_line_error(run("classify", "nope.sql", cwd=tmp_path), contains="nope.sql: no such file")


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_file(tmp_path, name):
    data, says = UNREADABLE[name]
    write(tmp_path, name, data)
    line = assert_one_line_error(run("classify", name, cwd=tmp_path), contains=says)
    assert name in line


@pytest.mark.parametrize("name", ["dollar.sql", "string.sql"])
def test_tokenizer_errors_name_the_line(tmp_path, name):
    write(tmp_path, name, UNREADABLE[name][0])
    line = assert_one_line_error(run("classify", "--format", "json", name, cwd=tmp_path))
    expected = {"dollar.sql": f"{name}:1:", "string.sql": f"{name}:2:23:"}[name]
    assert expected in line
    data = json.loads(run("classify", "--format", "json", name, cwd=tmp_path).out)
    assert data["migrations"][0]["phase"] == "contract" and data["migrations"][0]["error"]
    assert data["summary"]["errors"] == 1


NO_STATEMENTS = {"empty.sql": b"", "blank.sql": b"  \n\t\n",
                 "comments.sql": b"-- nothing but a comment\n/* and another */\n"}


def test_empty_and_comment_only_files_are_migrations_without_statements(tmp_path):
    """One empty file must not abort a directory run: it is a migration with no statements, phase none."""
    for name, data in NO_STATEMENTS.items():
        write(tmp_path, name, data)
    write(tmp_path, "z_add.sql", b"SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN a int;\n")
    result = run("classify", "--format", "json", ".", cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.err == ""
    data = json.loads(result.out)
    by_source = {m["source"]: m for m in data["migrations"]}
    for name in NO_STATEMENTS:
        assert by_source[name]["phase"] == "none" and by_source[name]["statements"] == [], by_source[name]
        assert by_source[name]["findings"] == []
    assert by_source["z_add.sql"]["phase"] == "expand"
    text = run("classify", ".", cwd=tmp_path)
    assert text.code == 0, text.err
    assert "NONE  empty.sql\n  no statements" in text.out and "4 migrations" in text.out


def test_empty_stdin(tmp_path):
    assert_one_line_error(run("classify", "-", cwd=tmp_path, stdin=b""), contains="<stdin>")


def test_binary_stdin(tmp_path):
    assert_one_line_error(run("classify", "-", cwd=tmp_path, stdin=b"\x00\xff\x00"), contains="binary")


def test_garbage_sql_is_unclassified_not_an_input_error(tmp_path):
    write(tmp_path, "garbage.sql", b"frobnicate the widgets;\nALTER TABLE;\n)))(((;\n")
    result = run("classify", "--format", "json", "garbage.sql", cwd=tmp_path)
    assert result.code == 1, result.err
    assert result.err == ""
    statements = json.loads(result.out)["migrations"][0]["statements"]
    assert len(statements) == 3
    for s in statements:
        assert s["phase"] == "contract"
        assert [f["rule"] for f in s["findings"] if f["rule"] == "U000"] == ["U000"]


@pytest.mark.parametrize("sql", [LONG_EXPRESSION, DEEP_PARENS], ids=["20000-terms", "3000-deep-parens"])
def test_huge_expressions_classify_or_fail_closed(tmp_path, sql):
    write(tmp_path, "big.sql", sql.encode())
    result = run("classify", "--format", "json", "big.sql", cwd=tmp_path)
    assert "Traceback" not in result.err and result.err == "", result.err
    assert result.code in (0, 1)
    (statement,) = json.loads(result.out)["migrations"][0]["statements"]
    assert statement["phase"] in ("none", "contract")
    if result.code == 1:  # could not be analysed: unclassified, never assumed safe
        assert statement["phase"] == "contract"
        assert any(f["rule"] == "U000" for f in statement["findings"])


def test_directory_without_sql(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "README.txt").write_text("no SQL here")
    assert_one_line_error(run("classify", "migrations", cwd=tmp_path), contains="no .sql files")


BROKEN_CONFIGS = {
    "unknown-rule": ('[tool.migrator]\ndisable = ["Z999"]\n', "unknown rule 'Z999'"),
    "unknown-rule-in-severity": ('[tool.migrator]\nseverity = { no-such-rule = "error" }\n', "unknown rule"),
    "bad-severity": ('[tool.migrator]\nseverity = { U000 = "fatal" }\n', "unknown severity 'fatal'"),
    "invalid-toml": ("[tool.migrator\ndisable = [\n", "invalid TOML"),
    "bad-dialect": ('[tool.migrator]\ndialect = "mysql"\n', "unsupported dialect"),
    "bad-fail-on": ('[tool.migrator]\nfail_on = "sometimes"\n', "fail_on"),
    "bad-bool": ('[tool.migrator]\nassume_in_transaction = "no"\n', "assume_in_transaction"),
    "not-a-table": ("[tool]\nmigrator = 3\n", "must be a table"),
}


@pytest.mark.parametrize("name", sorted(BROKEN_CONFIGS))
def test_broken_config_in_pyproject(tmp_path, name):
    text, says = BROKEN_CONFIGS[name]
    (tmp_path / "pyproject.toml").write_text(text)
    write(tmp_path, "ok.sql", b"ALTER TABLE t ADD COLUMN c int;\n")
    assert_one_line_error(run("classify", "ok.sql", cwd=tmp_path), contains=says)


def test_broken_config_given_with_option(tmp_path):
    (tmp_path / "conf.toml").write_text(BROKEN_CONFIGS["unknown-rule"][0])
    write(tmp_path, "ok.sql", b"SELECT 1;\n")
    assert_one_line_error(run("classify", "--config", "conf.toml", "ok.sql", cwd=tmp_path), contains="Z999")
    assert_one_line_error(run("classify", "--config", "absent.toml", "ok.sql", cwd=tmp_path), contains="not found")


@pytest.mark.parametrize("args, says", [
    (["classify", "--range", "base:head", "x.sql"], "--range needs --alembic-config"),
    (["classify", "--format", "xml", "x.sql"], "--format"),
    (["classify", "--fail-on", "sometimes", "x.sql"], "--fail-on"),
    (["classify", "--no-such-option", "x.sql"], "no such option"),
    (["classify", "x.sql", "--format"], "--format"),
    (["no-such-command"], "no such command"),
    (["classify"], "nothing to classify"),
    (["classify", "--alembic-config", "alembic.ini", "x.sql"], "not both"),
    (["lint", "--range", "a:b"], "--range needs"),
    (["rules", "--format", "yaml"], "--format"),
])
def test_usage_errors(tmp_path, args, says):
    write(tmp_path, "x.sql", b"SELECT 1;\n")
    assert_one_line_error(run(*args, cwd=tmp_path), contains=says)


def test_one_bad_file_among_good_ones_still_reports_the_good(tmp_path):
    write(tmp_path, "a.sql", b"ALTER TABLE t ADD COLUMN c int;\n")
    write(tmp_path, "b.sql", UNREADABLE["dollar.sql"][0])
    result = run("classify", "--format", "json", "a.sql", "b.sql", cwd=tmp_path)
    assert_one_line_error(result, contains="b.sql")
    sources = {m["source"]: m for m in json.loads(result.out)["migrations"]}
    assert sources["a.sql"]["phase"] == "expand" and "error" not in sources["a.sql"]
    assert "dollar-quoted" in sources["b.sql"]["error"]


# ---- the API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sql", ["SELECT $$ never closed", "SELECT $x$ never closed $y$", "SELECT 'open"])
def test_api_classify_raises_input_error(sql):
    with pytest.raises(InputError):
        api.classify(sql)


@pytest.mark.parametrize("sql", ["", "   \n", "-- only a comment\n"])
def test_api_classify_empty_text_is_a_migration_without_statements(sql):
    (migration,) = api.classify(sql).migrations
    assert migration.phase.label == "none" and list(migration.statements) == [] and not migration.findings


def test_api_rejects_unknown_dialect():
    with pytest.raises(InputError, match="unsupported dialect"):
        api.classify("SELECT 1", dialect="mysql")


def test_api_garbage_is_u000():
    report = api.classify("frobnicate the widgets;")
    (statement,) = report.migrations[0].statements
    assert statement.phase.label == "contract"
    assert "U000" in statement.rules


@pytest.mark.parametrize("sql", [LONG_EXPRESSION, DEEP_PARENS], ids=["20000-terms", "3000-deep-parens"])
def test_api_huge_expressions(sql):
    (statement,) = api.classify(sql).migrations[0].statements
    assert statement.phase.label in ("none", "contract")


@pytest.mark.parametrize("name", ["binary.sql", "latin1.sql"])
def test_api_classify_paths_unreadable(tmp_path, name):
    path = write(tmp_path, name, UNREADABLE[name][0])
    with pytest.raises(InputError, match=name):
        api.classify_paths([str(path)])


def test_api_classify_paths_missing_and_empty_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        api.classify_paths([str(tmp_path / "nope.sql")])
    (tmp_path / "d").mkdir()
    with pytest.raises(InputError, match="no .sql files"):
        api.classify_paths([str(tmp_path / "d")])


def test_api_untokenizable_file_is_a_migration_error(tmp_path):
    path = write(tmp_path, "dollar.sql", UNREADABLE["dollar.sql"][0])
    report = api.classify_paths([str(path)])
    assert "dollar-quoted" in report.migrations[0].error
    assert api.exit_code(report, load_config(start=tmp_path)) == 2


@pytest.mark.parametrize("name", sorted(BROKEN_CONFIGS))
def test_api_broken_config(tmp_path, name):
    (tmp_path / "pyproject.toml").write_text(BROKEN_CONFIGS[name][0])
    with pytest.raises(ConfigError):
        load_config(start=tmp_path)


