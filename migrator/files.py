"""Reading user-named files carefully: what a path is, its stat as the caller's own error, size limits."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from migrator.errors import ConfigError

MAX_BYTES = 64 * 1024 * 1024  # default size limit of one input; [tool.migrator] max_file_size changes it

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


_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2,
          "g": 1024 ** 3, "gb": 1024 ** 3, "gib": 1024 ** 3}


def parse_size(value: object, where: str = "max_file_size") -> int:
    """Bytes from an int or a string such as "64 MiB", "512k", "1048576"; a ConfigError otherwise."""
    if isinstance(value, bool):
        raise ConfigError(f"{where} must be a size such as \"64 MiB\", got {value!r}")
    number: float
    if isinstance(value, int):
        number, unit = value, ""
    else:
        text = str(value).strip().lower().replace(" ", "")
        digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = text[len(digits):]
        try:
            number = float(digits)
        except ValueError:
            raise ConfigError(f"{where} must be a size such as \"64 MiB\", got {value!r}") from None
        if unit not in _UNITS:
            raise ConfigError(f"{where}: unknown unit {unit!r} in {value!r} (use B, KiB, MiB or GiB)")
    size = int(number * _UNITS[unit])
    if size <= 0:
        raise ConfigError(f"{where} must be positive, got {value!r}")
    return size


def human_size(size: int) -> str:
    for unit, factor in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if size >= factor:
            return f"{round(size / factor, 1):g} {unit}"
    return f"{size} bytes"
