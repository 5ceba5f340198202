"""The `migrator` command end to end (a subprocess): wiring, exit codes, streams, start-up cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests._cli import TIMEOUT, migrator_command, run

DROP = "ALTER TABLE users DROP COLUMN name;\n"  # contract, a warning
ADD = "ALTER TABLE users ADD COLUMN nickname text;\n"  # expand
GARBAGE = "frobnicate the widgets;\n"  # U000, an error


def test_help_lists_the_commands_and_exits_0(tmp_path):
    result = run("--help", cwd=tmp_path)
    assert result.code == 0 and result.err == ""
    for command in ("classify", "lint", "rules"):
        assert command in result.out


def test_help_does_not_import_the_heavy_modules():
    code = (
        "import sys\n"
        "from migrator.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlglot', 'alembic', 'sqlalchemy', 'psycopg'})\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "[]", proc.stderr


def test_version(tmp_path):
    result = run("--version", cwd=tmp_path)
    assert result.code == 0 and result.out.startswith("migrator ")


def test_in_process_runs_capture_only_the_commands_own_output(tmp_path):
    """tests/_cli.py: a thread that was running before the command (another test's server) writes elsewhere, as
    it would from another process; the command's own output is captured whole."""
    import threading

    stop = threading.Event()

    def chatter():
        while not stop.is_set():
            sys.stderr.write("not the command's\n")
            stop.wait(0.001)

    thread = threading.Thread(target=chatter, daemon=True)
    thread.start()
    try:
        (tmp_path / "a.sql").write_text("ALTER TABLE users ADD COLUMN nickname text;\n")
        result = run("classify", "a.sql", cwd=tmp_path)
    finally:
        stop.set()
        thread.join()
    assert result.code == 0 and "EXPAND  a.sql" in result.out
    assert "not the command's" not in result.out + result.err


def test_exit_codes_follow_fail_on(tmp_path):
    (tmp_path / "add.sql").write_text(ADD)
    (tmp_path / "drop.sql").write_text(DROP)
    (tmp_path / "garbage.sql").write_text(GARBAGE)
    assert run("classify", "add.sql", cwd=tmp_path).code == 0
    assert run("classify", "drop.sql", cwd=tmp_path).code == 0  # warnings pass the default (error)
    assert run("classify", "--fail-on", "warning", "drop.sql", cwd=tmp_path).code == 1
    assert run("classify", "garbage.sql", cwd=tmp_path).code == 1
    assert run("classify", "--fail-on", "never", "garbage.sql", cwd=tmp_path).code == 0


def test_fail_on_from_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.migrator]\nfail_on = "warning"\n')
    (tmp_path / "drop.sql").write_text(DROP)
    assert run("classify", "drop.sql", cwd=tmp_path).code == 1
    assert run("classify", "--fail-on", "error", "drop.sql", cwd=tmp_path).code == 0  # the option wins


def test_config_disables_and_reclassifies_rules(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.migrator]\ndisable = ["drop-column"]\nseverity = { U000 = "warning" }\n')
    (tmp_path / "m.sql").write_text(DROP + GARBAGE)
    result = run("classify", "--format", "json", "m.sql", cwd=tmp_path)
    assert result.code == 0, result.err  # U000 is only a warning now
    findings = [f for s in json.loads(result.out)["migrations"][0]["statements"] for f in s["findings"]]
    assert "C317" not in {f["rule"] for f in findings}
    assert {f["severity"] for f in findings if f["rule"] == "U000"} == {"warning"}


def test_stdin_and_directories(tmp_path):
    result = run("classify", "--format", "json", "-", cwd=tmp_path, stdin=DROP)
    assert result.code == 0
    assert json.loads(result.out)["migrations"][0]["source"] == "<stdin>"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "0002_drop.sql").write_text(DROP)
    (tmp_path / "m" / "0001_add.sql").write_text(ADD)
    (tmp_path / "m" / "notes.txt").write_text("not SQL")
    data = json.loads(run("classify", "--format", "json", "m", cwd=tmp_path).out)
    assert [m["source"].replace("\\", "/") for m in data["migrations"]] == ["m/0001_add.sql", "m/0002_drop.sql"]
    assert [m["phase"] for m in data["migrations"]] == ["expand", "contract"]


def test_results_on_stdout_diagnostics_on_stderr(tmp_path):
    (tmp_path / "m.sql").write_text(DROP)
    for fmt in ("text", "json", "sarif", "github"):
        result = run("classify", "--format", fmt, "m.sql", cwd=tmp_path)
        assert result.code == 0 and result.err == "", (fmt, result.err)
        assert "C317" in result.out
        if fmt in ("json", "sarif"):
            json.loads(result.out)


def test_lint_fails_on_a_mixed_migration(tmp_path):
    (tmp_path / "mixed.sql").write_text(ADD + DROP)
    (tmp_path / "clean.sql").write_text(ADD)
    assert run("lint", "clean.sql", cwd=tmp_path).code == 0
    result = run("lint", "mixed.sql", cwd=tmp_path)
    assert result.code == 1
    assert "P505" in result.out


def test_rules_lists_the_registry(tmp_path):
    from migrator.rules.registry import all_rules

    data = json.loads(run("rules", "--format", "json", cwd=tmp_path).out)
    assert [r["rule"] for r in data] == [r.id for r in all_rules()]
    text = run("rules", cwd=tmp_path).out
    assert "U000" in text and "unclassified-statement" in text


def test_bare_command_shows_help(tmp_path):
    result = run(cwd=tmp_path)
    assert result.code == 2
    assert "Usage:" in result.out + result.err
    assert "Traceback" not in result.err


def test_broken_pipe_is_quiet(tmp_path):
    (tmp_path / "big.sql").write_text(DROP * 5000)
    proc = subprocess.Popen([*migrator_command(), "classify", "big.sql"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=TIMEOUT)
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode in (0, 1)


def test_text_has_no_colour_when_piped_and_colour_when_forced(tmp_path):
    (tmp_path / "m.sql").write_text(DROP)
    assert "\033[" not in run("classify", "m.sql", cwd=tmp_path).out
    forced = run("classify", "m.sql", cwd=tmp_path, env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert "\033[" in forced.out
    both = run("classify", "m.sql", cwd=tmp_path, env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert "\033[" not in both.out  # NO_COLOR wins


def test_an_internal_error_is_one_line(tmp_path, monkeypatch, capsys):
    import pytest

    from migrator import api
    from migrator.cli import main

    def broken(*args, **kwargs):
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(api, "iter_classify_paths", broken)
    monkeypatch.delenv("MIGRATOR_DEBUG", raising=False)
    (tmp_path / "m.sql").write_text(ADD)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["classify", "m.sql"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("migrator: internal error: ValueError: boom second line")
    monkeypatch.setenv("MIGRATOR_DEBUG", "1")
    with pytest.raises(ValueError):
        main(["classify", "m.sql"])


def test_every_release_option_has_its_docs_line():
    """An option of ReleaseOptions is one field plus its line in docs/cli.md's table."""
    from dataclasses import fields

    from migrator.commands.options import ReleaseOptions

    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    table = text[text.index("## Release options"):]
    for f in fields(ReleaseOptions):
        assert any(f"`{flag}" in table for flag in f.metadata["flags"]), f.name


def test_commands_return_typed_results_and_raise_with_exit_codes(tmp_path):
    """In process, no typer: a request in, a result out; an error carries its exit code."""
    import io

    import pytest

    from migrator.commands.classify import ClassifyRequest, classify
    from migrator.commands.render import render
    from migrator.commands.rule import RuleRequest, rule
    from migrator.errors import MigratorError

    (tmp_path / "m.sql").write_text("ALTER TABLE users DROP COLUMN name;\n")
    result = classify(ClassifyRequest(paths=[str(tmp_path / "m.sql")], fail_on="warning"))
    out = io.StringIO()
    render(result, "json", out)  # classifies as it writes, and adds up the counts
    assert '"contract"' in out.getvalue() and result.exit_code == 1  # a warning, at --fail-on warning
    assert rule(RuleRequest("C317")).info["rule"] == "C317"
    with pytest.raises(MigratorError) as caught:
        rule(RuleRequest("no-such-rule"))
    assert caught.value.exit_code == 2


def test_release_result_keeps_the_json_fields_and_their_order():
    from migrator.release.render import render
    from migrator.release.result import ReleaseResult, error_result

    data = {"command": "migrate", "result": "ok", "release_id": "r-1", "state": "migrated", "previous_state": "expanded",
            "active_color": "blue", "next_command": "migrator switch", "message": "done", "applied": ["0002"],
            "revisions": ["0002"]}
    result = ReleaseResult.from_dict(data)
    assert result.applied == ["0002"] and list(result.to_dict()) == list(data)
    assert render(result, "json") == render(data, "json")
    assert render(result, "text").startswith("migrate: done\n")
    error = error_result("switch", RuntimeError("boom"), 2)
    assert error.failed and error.to_dict()["exit_code"] == 2 and render(error, "text") == "switch error: boom\n"
