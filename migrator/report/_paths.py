"""Where a finding is: the source path as CI tools want it, and a statement's last line."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path, PurePath


def relative_path(source: str) -> str:
    """`source` with forward slashes, relative to the working directory when it lies below it.

    Pseudo-sources such as `<stdin>` and absolute paths outside the working directory stay as they are.
    """
    return _relative(source, os.getcwd())


@lru_cache(maxsize=1024)
def _relative(source: str, cwd: str) -> str:
    if source.startswith("<"):
        return source
    path = PurePath(source)
    if path.is_absolute():
        try:
            return Path(source).resolve().relative_to(Path(cwd).resolve()).as_posix()
        except (ValueError, OSError):
            return path.as_posix()
    return path.as_posix()


def end_line(line: int, sql: str) -> int:
    return line + sql.count("\n")
