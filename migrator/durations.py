"""Durations, once for every table and option that takes one: "500ms", "2s", "15m", "1h30m", or plain seconds.

    parse_duration("1h30m") -> 5400.0          seconds_of(value, "timeout", where) -> float or ConfigError
    human_seconds(5400) -> "90m"               format_seconds(5400) -> "1.5 h"      short_duration(900) -> "15m"
"""

from __future__ import annotations

import re

from migrator.errors import ConfigError

UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
         "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
         "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0, "d": 86400.0, "day": 86400.0, "days": 86400.0,
         "us": 1e-6}
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_duration(text) -> float:
    """"500ms" -> 0.5, "2s" -> 2.0, "15m" -> 900.0, "1h30m" -> 5400.0, 3 / "3" -> 3.0 (seconds).
    Raises ValueError on anything else (negative, empty, unknown unit)."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, (int, float)):
        if text < 0 or text != text:
            raise ValueError(f"duration must be >= 0, got {text!r}")
        return float(text)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"not a duration: {text!r}")
    s = text.strip().lower()
    total, pos, parts = 0.0, 0, 0
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m or m.end() == pos:
            raise ValueError(f"not a duration: {text!r} (use e.g. 500ms, 2s, 15m, 1h)")
        number, unit = m.group(1), m.group(2)
        if unit and unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r} in duration {text!r} (ms, s, m, h, d)")
        if not unit and (parts or m.end() < len(s)):
            raise ValueError(f"not a duration: {text!r} (a unit is needed after {number})")
        total += float(number) * UNITS.get(unit, 1.0)
        pos, parts = m.end(), parts + 1
    return total


def seconds_of(value, key: str, where: str) -> float:
    """parse_duration for a config key: a ConfigError naming `where` and the key."""
    try:
        return parse_duration(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {key} = {value!r}: {exc}") from None


def human_seconds(seconds: float) -> str:
    """0.3s, 42s, 15m, 60m, 1.5h: the soak messages' units."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def format_seconds(seconds: float) -> str:
    """An estimate's units: "<0.1 s", "4.2 s", "3.5 min", "1.2 h"."""
    if seconds < 0.1:
        return "<0.1 s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def short_duration(seconds: float) -> str:
    """A setting as it would be written: "15m", "2h", "1.5s"; "0s (none)" for zero."""
    if not seconds:
        return "0s (none)"
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
