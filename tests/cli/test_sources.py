"""What `classify` / `lint` agree to read: files inside the roots they were given, regular files only, and
nothing larger than the size limit, all decided before a byte is read. Through the real CLI."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests._cli import assert_one_line_error, migrator_command, run

SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-do-not-print"
# a secrets file that also reads as SQL: classify would print it as a statement
SECRET_SQL = f"SELECT '{SECRET}';\n"
GOOD = "ALTER TABLE users ADD COLUMN nickname text;\n"


def _tree(tmp_path):
    outside = tmp_path / "ci"
    outside.mkdir()
    (outside / "secrets.env").write_text(SECRET_SQL)
    project = tmp_path / "project"
    (project / "migrations").mkdir(parents=True)
    (project / "migrations" / "0001_ok.sql").write_text(GOOD)
    return project, outside


def _assert_secret_not_shown(result):
    assert SECRET not in result.out and SECRET not in result.err
    assert "wJalrXUtnFEMI" not in result.out + result.err


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_symlink_in_a_directory_to_a_file_outside_is_refused(tmp_path, fmt):
    project, outside = _tree(tmp_path)
    (project / "migrations" / "0002_evil.sql").symlink_to(outside / "secrets.env")
    result = run("classify", "--format", fmt, "migrations", cwd=project)
    line = assert_one_line_error(result, contains="0002_evil.sql")
    assert "outside" in line and "symbolic link" in line
    assert result.out == ""  # refused before anything was classified or printed
    _assert_secret_not_shown(result)


def test_symlink_given_as_a_file_to_a_file_outside_its_folder_is_refused(tmp_path):
    project, outside = _tree(tmp_path)
    (project / "migrations" / "0002_evil.sql").symlink_to(outside / "secrets.env")
    for args in (["migrations/0002_evil.sql"], ["migrations/0001_ok.sql", "migrations/0002_evil.sql"]):
        for command in ("classify", "lint"):
            result = run(command, *args, cwd=project)
            assert_one_line_error(result, contains="0002_evil.sql: symbolic link")
            _assert_secret_not_shown(result)


def test_symlinked_directory_leading_outside_is_refused(tmp_path):
    project, outside = _tree(tmp_path)
    (outside / "more.sql").write_text(SECRET_SQL)
    (project / "migrations" / "shared").symlink_to(outside)
    result = run("classify", "migrations", cwd=project)
    assert_one_line_error(result, contains="shared: symbolic link to a directory outside")
    _assert_secret_not_shown(result)


def test_symlinks_that_stay_inside_the_root_are_read(tmp_path):
    project, _ = _tree(tmp_path)
    migrations = project / "migrations"
    (migrations / "real").mkdir()
    (migrations / "real" / "0002_drop.sql").write_text("ALTER TABLE users DROP COLUMN legacy;\n")
    (migrations / "0003_alias.sql").symlink_to("real/0002_drop.sql")
    (migrations / "linked").symlink_to("real")  # a folder link inside the root: its files are read once
    result = run("classify", "--format", "json", "--fail-on", "never", "migrations", cwd=project)
    assert result.code == 0, result.err
    import json

    sources = [m["source"] for m in json.loads(result.out)["migrations"]]
    assert sources == ["migrations/0001_ok.sql", "migrations/0003_alias.sql", "migrations/real/0002_drop.sql"]


def _run_quick(args, cwd, *, stdin=None, timeout=15):
    """The CLI with a short timeout: reading a FIFO or /dev/zero would hang or fill memory."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "MIGRATOR_DEBUG")}
    env["NO_COLOR"] = "1"
    start = time.monotonic()
    proc = subprocess.run([*migrator_command(), *args], cwd=cwd, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                          capture_output=True, timeout=timeout, env=env)
    from tests._cli import Result

    return Result(proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")), \
        time.monotonic() - start


def test_fifo_is_refused_without_blocking(tmp_path):
    project, _ = _tree(tmp_path)
    os.mkfifo(project / "migrations" / "0002_pipe.sql")  # nobody ever writes to it
    for args in (["classify", "migrations"], ["classify", "migrations/0002_pipe.sql"]):
        result, _ = _run_quick(args, project)
        assert_one_line_error(result, contains="0002_pipe.sql: not a regular file (a FIFO)")


def test_dev_zero_is_refused_before_reading(tmp_path):
    result, seconds = _run_quick(["classify", "/dev/zero"], tmp_path)
    assert_one_line_error(result, contains="/dev/zero: not a regular file (a character device)")
    assert seconds < 10


def test_dev_zero_on_stdin_is_refused_before_reading(tmp_path):
    with open("/dev/zero", "rb") as zero:
        result, _ = _run_quick(["classify", "-"], tmp_path, stdin=zero)
    assert_one_line_error(result, contains="<stdin>: not a regular file, pipe or terminal")


def test_size_limit_is_enforced_from_the_size_alone(tmp_path):
    project, _ = _tree(tmp_path)
    huge = project / "migrations" / "0002_huge.sql"
    with open(huge, "wb") as f:
        f.truncate(20 * 1024 ** 3)  # 20 GiB, sparse: reading it would take minutes and fill memory
    result, seconds = _run_quick(["classify", "migrations"], project)
    line = assert_one_line_error(result, contains="0002_huge.sql")
    assert "20 GiB is larger than the limit of 64 MiB" in line
    assert seconds < 10


def test_size_limit_is_configurable(tmp_path):
    project, _ = _tree(tmp_path)
    (project / "migrations" / "0002_big.sql").write_text(GOOD * 100)  # 4.4 KB
    assert run("classify", "migrations", cwd=project).code == 0
    (project / "pyproject.toml").write_text('[tool.migrator]\nmax_file_size = "2 KiB"\n')
    assert_one_line_error(run("classify", "migrations", cwd=project),
                          contains="0002_big.sql: file of 4.3 KiB is larger than the limit of 2 KiB")
    assert run("classify", "--max-file-size", "1MiB", "migrations", cwd=project).code == 0
    assert_one_line_error(run("classify", "--max-file-size", "1k", "-", cwd=project, stdin=GOOD * 100),
                          contains="<stdin>: more than the limit of 1 KiB")
    (project / "pyproject.toml").write_text('[tool.migrator]\nmax_file_size = "lots"\n')
    assert_one_line_error(run("classify", "migrations", cwd=project), contains="max_file_size")


def test_stdin_pipe_still_works(tmp_path):
    result = run("classify", "--format", "json", "-", cwd=tmp_path, stdin=GOOD)
    assert result.code == 0, result.err
