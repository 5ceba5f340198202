"""Reading user-named files carefully: what a path is, and its stat as the caller's own error."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str:
    """"a directory", "a FIFO", ... for what is not a regular file ("not a regular file" when none of those)."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def stat_or(path, fail: Callable[[str], Exception], missing: str, unreadable: str) -> os.stat_result:
    """os.stat(path); a missing file raises fail(missing), another OSError fail("<unreadable>: <why>")."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise fail(missing) from None
    except OSError as exc:
        raise fail(f"{unreadable}: {exc.strerror or exc}") from None
