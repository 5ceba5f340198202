"""Control characters from SQL, file names, --reason and hook answers never reach a terminal raw (D14).

Every text render escapes them (`\\x1b`, `\\0`, `\\u202e`); JSON stays JSON."""

from __future__ import annotations

import json
import re

import pytest

from migrator.escape import escape_controls
from tests._cli import run

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[1A"  # set the window title, clear the screen, move the cursor up
PADDING = "-- " + "x" * 200 + "\n"  # the binary check reads the first 8 KiB; a NUL further on must not pass raw

EVIL_SQL = (
    f'ALTER TABLE "users{ESC}" DROP COLUMN "legacy\u202e";\n'
    + PADDING * 45
    + "UPDATE accounts SET note = 'a\x00b\rhidden' WHERE id = 1;\n"
    + f"-- migrator: ignore C317 reason: trust me{ESC}\n"
    + "ALTER TABLE t DROP COLUMN c;\n"
)


def assert_clean(text: str) -> None:
    found = RAW.search(text)
    assert found is None, f"raw control character {found.group()!r} at {found.start()}: {text[max(0, found.start() - 60):found.start() + 20]!r}"


def test_escape_controls_shows_each_control_character():
    assert escape_controls("a\x1b[2Jb\x00c\x7fd\x9be\u202ef") == "a\\x1b[2Jb\\0c\\x7fd\\x9be\\u202ef"
    assert escape_controls("line\n\tnext") == "line\n\tnext"
    assert escape_controls("line\nnext\r", keep_lines=False) == "line\\nnext\\r"
    plain = "ALTER TABLE users DROP COLUMN café"
    assert escape_controls(plain) is plain


@pytest.mark.parametrize("command, fmt", [("classify", "text"), ("lint", "text"), ("classify", "github")])
def test_classify_renders_escape_control_characters(tmp_path, command, fmt):
    name = "evil\x1b[31m.sql"
    (tmp_path / name).write_text(EVIL_SQL)
    result = run(command, "--format", fmt, "--verbose", name, cwd=tmp_path)
    assert result.code in (0, 1), result.err
    assert_clean(result.out)
    assert_clean(result.err)
    assert "users\\x1b]0;pwned\\x07\\x1b[2J" in result.out
    if fmt == "text":
        assert "evil\\x1b[31m.sql" in result.out
        assert "'a\\0b hidden'" in result.out  # \r is whitespace: the one-line SQL folds it
        assert "trust me\\x1b]0;pwned" in result.out  # the suppression's reason, shown with --verbose


def test_json_stays_json_with_control_characters(tmp_path):
    (tmp_path / "evil.sql").write_text(EVIL_SQL)
    result = run("classify", "--format", "json", "evil.sql", cwd=tmp_path)
    assert_clean(result.out.replace("\u202e", ""))  # json.dumps leaves non-ASCII text as it is
    sql = [s["sql"] for s in json.loads(result.out)["migrations"][0]["statements"]]
    assert sql[0].startswith(f'ALTER TABLE "users{ESC}"')
    assert "'a\x00b\rhidden'" in sql[1]


def test_error_lines_on_stderr_escape_the_path(tmp_path):
    result = run("classify", "\x1b[2Jnope.sql", cwd=tmp_path)
    assert result.code == 2
    assert_clean(result.err)
    assert "\\x1b[2Jnope.sql: no such file" in result.err


def test_release_render_escapes_reason_and_messages():
    from migrator.release.render import error_result, render

    out = render(error_result("switch", RuntimeError(f"refused: {ESC}"), 1), "text")
    assert_clean(out)
    assert "\\x1b]0;pwned" in out
    status = {
        "command": "status", "result": "ok", "release_id": f"r-1{ESC}", "state": "switched",
        "active_color": "green", "blue": {"ref": "v1", "sha": "a" * 40}, "green": {"ref": "v2\x00", "sha": "b" * 40},
        "database": "postgresql://postgres@127.0.0.1:5432/x", "alembic_heads": ["0004"], "phases": {},
        "gates": {"contract": {"passed": False, "evaluated": True, "checks": [
            {"status": "pending", "name": "soak", "detail": f"soak {ESC} left"}]}},
        "events": [{"at": "2026-05-01T12:00:00+00:00", "command": "switch", "result": "succeeded",
                    "actor": "ci\x1b[8m", "forced": True, "reason": f"because {ESC}\rall good"}],
        "next_command": "migrator contract",
    }
    for fmt in ("text", "markdown"):
        out = render(status, fmt)
        assert_clean(out)
        assert "\\x1b]0;pwned" in out
    assert "because \\x1b]0;pwned\\x07\\x1b[2J\\x1b[1A\\rall good" in render(status, "text")
    data = json.loads(render(status, "json"))
    assert data["events"][0]["reason"] == f"because {ESC}\rall good"


def test_compat_render_escapes_test_names_and_reasons():
    from migrator.compat.render import render_compat
    from migrator.compat.result import CompatResult, SuiteRun

    result = CompatResult(result="fail", reason=f"blue's suite failed{ESC}", blue_ref="v1", blue_sha="a" * 40,
                          green_sha="b" * 40, cells=[SuiteRun("blue", "expanded", "fail", failed=1, total=1, failures=[
                              {"test": f"test_users.py::test_{ESC}", "error": "AssertionError: \x00\x1b[31m"}])])
    out = render_compat(result, "text")
    assert_clean(out)
    assert "test_\\x1b]0;pwned" in out and "AssertionError: \\0\\x1b[31m" in out


def test_router_check_render_escapes_the_hook_message():
    from migrator.routers.check import render

    result = {"router": "command router.sh", "kind": "command", "active_color": "green", "expected": None,
              "message": f"served by {ESC}"}
    out, err = render(0, result, "text")
    assert_clean(out + err)
    assert "served by \\x1b]0;pwned" in out
    out, err = render(2, dict(result, active_color=None), "text")
    assert_clean(out + err)
    assert "\\x1b]0;pwned" in err
