"""The README's commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_test_command() -> str:
    """The indented command after "Run the whole test suite" in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"Run the whole test suite.*?\n\n {4}(\S[^\n]*)\n", text, re.S)
    assert m, "README.md lost its 'Run the whole test suite' command"
    return m.group(1).strip()


def test_ci_runs_the_readme_test_command_verbatim():
    command = readme_test_command()
    assert "pytest" in command
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert any(line.strip().startswith(command) for line in script.splitlines()), (
        f".ci/run does not run the README's test command: {command}")
    assert script.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script


def test_ci_fails_when_no_test_ran():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'exit "${status}"' in script and "-eq 5" in script


def test_ci_type_checks_after_the_install_and_before_the_tests():
    """`mypy migrator` (issue 11) runs once the venv is installed, before the README's command; a failure stops
    CI before the tests, and README says so."""
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    install = lines.index("python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' || status=$?")
    mypy = lines.index(".venv/bin/mypy migrator || status=$?")
    tests = next(i for i, line in enumerate(lines) if line.startswith(readme_test_command()))
    assert install < mypy < tests
    assert lines[tests - 1] == lines[mypy - 1] == 'if [ "${status}" -eq 0 ]; then'
    assert "mypy migrator" in (ROOT / "README.md").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^test = \[[^\]]*"mypy>=1\.10"', pyproject, re.M), "mypy left the test extra"
