"""Run the real `migrator` command in a subprocess, as a user or CI would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 60  # seconds: a hang is a failure, not a stuck test run


def migrator_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m migrator.cli`."""
    script = Path(sys.executable).with_name("migrator")
    if script.is_file():
        return [str(script)]
    found = shutil.which("migrator")
    if found and Path(found).resolve().parent == Path(sys.executable).resolve().parent:
        return [found]
    return [sys.executable, "-m", "migrator.cli"]


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(*args: str, cwd: Path | str | None = None, stdin: str | bytes | None = None, env: dict | None = None) -> Result:
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "MIGRATOR_DEBUG")}
    environment["NO_COLOR"] = "1"
    environment.update(env or {})
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run([*migrator_command(), *args], cwd=cwd, input=data if data is not None else b"",
                          capture_output=True, timeout=TIMEOUT, env=environment)
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def assert_one_line_error(result: Result, *, code: int = 2, contains: str | None = None) -> str:
    """Exit `code`, and stderr is one line starting `migrator:`, with no traceback."""
    assert "Traceback" not in result.err, result.err
    assert "internal error" not in result.err, result.err
    assert result.code == code, (result.code, result.err, result.out[:500])
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("migrator: "), lines[0]
    if contains is not None:
        assert contains.lower() in lines[0].lower(), lines[0]
    return lines[0]
