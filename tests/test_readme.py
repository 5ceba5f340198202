"""The README's commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
