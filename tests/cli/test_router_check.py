"""`migrator router check` names why the router could not tell its colour, in the words `switch` uses for the
same answer (one shared function): a missing command, junk on stdout, an exit code. Through the real CLI."""

from __future__ import annotations

import stat
import textwrap
from pathlib import Path

import pytest

from migrator.routers import CommandHook, move_traffic
from migrator.release.errors import HookFailed
from tests._cli import assert_one_line_error, run

CASES = {
    "missing": (None, "cannot run './router.sh': No such file or directory"),
    "junk": ("echo reloading nginx; exit 0", "stdout is not a bg-hook/v1 response"),
    "exit3": ("exit 3", "exited with 3"),
    "killed": ("kill -9 $$", "was killed by SIGKILL"),
    "inconclusive": ("""printf '{"status": "inconclusive", "message": "two colours answer"}'""",
                     "inconclusive: a human has to decide (two colours answer)"),
    "no colour": ("""printf '{"status": "succeeded"}'""", "answered succeeded but named no colour"),
}


def _project(tmp_path: Path, body: str | None) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.migrator.hook]\nkind = "command"\ncommand = ["./router.sh"]\n')
    if body is not None:
        path = tmp_path / "router.sh"
        path.write_text("#!/bin/sh\n" + textwrap.dedent(body).lstrip() + "\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_router_check_names_the_cause(tmp_path, case):
    body, cause = CASES[case]
    line = assert_one_line_error(run("router", "check", cwd=_project(tmp_path, body)))
    assert cause in line, line
    assert "did not name a colour" not in line


@pytest.mark.parametrize("case", ["missing", "junk", "exit3", "inconclusive"])
def test_switch_says_the_same(tmp_path, case):
    body, cause = CASES[case]
    _project(tmp_path, body)
    hook = CommandHook(["./router.sh"], cwd=tmp_path, poll_interval=0.05)
    with pytest.raises(HookFailed) as info:
        move_traffic(hook, "r-1", "green", "blue", "switch", {}, 5)
    assert cause.replace("current", "switch") in str(info.value)
