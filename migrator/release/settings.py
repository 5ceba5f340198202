"""Release settings: `[tool.migrator.release]` of the app's pyproject.toml, overridden by CLI flags.

    [tool.migrator.release]
    lock_timeout = "500ms"          # every DDL session; a lock wait longer than this fails with 55P03 and retries
    statement_timeout = "0"         # DDL sessions; "0" = none
    lock_retries = 10               # retries after a lock timeout, per revision
    retry_backoff = { base = "200ms", max = "10s" }   # full jitter: sleep uniform(0, min(max, base * 2**attempt))
    soak = "15m"                    # time on green before contract ("0" allowed)
    blue_application_name = "shop-blue"   # contract waits until no session of blue is left
    ledger_schema = "migrator"
    evidence_key_env = "MIGRATOR_EVIDENCE_KEY"   # the variable holding the evidence signing key
    require_signed_evidence = false # true: unsigned evidence is refused by the expand, switch and contract gates

`retry_backoff` may also be given flat: retry_backoff_base / retry_backoff_max, or a single duration (= base).
Durations: "500ms", "2s", "1.5s", "15m", "1h", "1d", "1h30m", or plain numbers (seconds).
"""

from __future__ import annotations

import random
import re
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from migrator.errors import ConfigError

_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
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
        if unit and unit not in _UNITS:
            raise ValueError(f"unknown unit {unit!r} in duration {text!r} (ms, s, m, h, d)")
        if not unit and (parts or m.end() < len(s)):
            raise ValueError(f"not a duration: {text!r} (a unit is needed after {number})")
        total += float(number) * _UNITS.get(unit, 1.0)
        pos, parts = m.end(), parts + 1
    return total


@dataclass(frozen=True)
class ReleaseSettings:
    lock_timeout_ms: int = 500
    statement_timeout_ms: int = 0           # 0 = no statement timeout
    lock_retries: int = 10
    retry_backoff_base: float = 0.2         # seconds
    retry_backoff_max: float = 10.0         # seconds
    soak_seconds: float = 900.0
    blue_application_name: str | None = None
    ledger_schema: str = "migrator"
    evidence_key_env: str | None = None     # None: MIGRATOR_EVIDENCE_KEY
    require_signed_evidence: bool = False

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full-jitter sleep before retry number `attempt` (1-based): uniform(0, min(max, base * 2**(attempt-1)))."""
        cap = min(self.retry_backoff_max, self.retry_backoff_base * (2 ** max(0, attempt - 1)))
        return (rng or random).uniform(0.0, max(0.0, cap))

    def session_sql(self) -> list[str]:
        """SET statements every DDL session runs first."""
        return [f"SET lock_timeout = {int(self.lock_timeout_ms)}",
                f"SET statement_timeout = {int(self.statement_timeout_ms)}"]

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_DURATION_MS = {"lock_timeout": "lock_timeout_ms", "statement_timeout": "statement_timeout_ms"}
_DURATION_S = {"soak": "soak_seconds", "retry_backoff_base": "retry_backoff_base",
               "retry_backoff_max": "retry_backoff_max"}
_KNOWN = {"lock_timeout", "statement_timeout", "lock_retries", "retry_backoff", "retry_backoff_base",
          "retry_backoff_max", "soak", "blue_application_name", "ledger_schema", "evidence_key_env",
          "require_signed_evidence"}
_FIELD_NAMES = {f.name for f in fields(ReleaseSettings)}


def _apply(values: dict, mapping: dict, where: str, *, strict: bool) -> dict:
    """Turn user-facing keys (lock_timeout = "500ms") or field names (lock_timeout_ms = 500) into field values."""
    out: dict = {}
    for key, value in mapping.items():
        if value is None:
            continue
        key = key.replace("-", "_")
        try:
            if key in _DURATION_MS:
                out[_DURATION_MS[key]] = int(round(parse_duration(value) * 1000))
            elif key in _DURATION_S:
                out[_DURATION_S[key]] = parse_duration(value)
            elif key == "retry_backoff":
                if isinstance(value, dict):
                    unknown = set(value) - {"base", "max"}
                    if unknown and strict:
                        raise ConfigError(f"{where}: retry_backoff: unknown key(s) {', '.join(sorted(unknown))} "
                                          "(base, max)")
                    if "base" in value:
                        out["retry_backoff_base"] = parse_duration(value["base"])
                    if "max" in value:
                        out["retry_backoff_max"] = parse_duration(value["max"])
                else:
                    out["retry_backoff_base"] = parse_duration(value)
            elif key == "lock_retries":
                if isinstance(value, bool) or int(value) != float(value) or int(value) < 0:
                    raise ValueError("must be a whole number >= 0")
                out["lock_retries"] = int(value)
            elif key in ("lock_timeout_ms", "statement_timeout_ms"):
                if isinstance(value, bool) or int(value) < 0:
                    raise ValueError("must be >= 0 milliseconds")
                out[key] = int(value)
            elif key == "soak_seconds":
                out[key] = parse_duration(value)
            elif key == "blue_application_name":
                out[key] = str(value) or None
            elif key == "ledger_schema":
                if not str(value).strip():
                    raise ValueError("must not be empty")
                out[key] = str(value)
            elif key == "evidence_key_env":
                from migrator.evidence import check_key_env_name

                out[key] = check_key_env_name(value, where)
            elif key == "require_signed_evidence":
                if not isinstance(value, bool):
                    raise ValueError("must be true or false")
                out[key] = value
            elif strict:
                raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(_KNOWN))})")
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}: {key} = {value!r}: {exc}") from None
    values.update(out)
    return values


def settings_from_mapping(section: dict | None, overrides: dict | None = None, *, source: str = "") -> ReleaseSettings:
    where = f"{source}: [tool.migrator.release]" if source else "[tool.migrator.release]"
    if section is not None and not isinstance(section, dict):
        raise ConfigError(f"{where} must be a table")
    values: dict = {}
    _apply(values, section or {}, where, strict=True)
    _apply(values, overrides or {}, "option", strict=False)
    settings = ReleaseSettings(**values)
    if settings.retry_backoff_max < settings.retry_backoff_base:
        settings = replace(settings, retry_backoff_max=settings.retry_backoff_base)
    return settings


def load_release_settings(pyproject_path, overrides: dict | None = None) -> ReleaseSettings:
    """Read [tool.migrator.release] from `pyproject_path` (missing file or section -> defaults), then apply
    `overrides` (CLI flags; None values are ignored; keys as in the TOML, e.g. lock_timeout="1s", or field
    names, e.g. lock_timeout_ms=1000)."""
    section: dict = {}
    source = ""
    if pyproject_path is not None:
        path = Path(pyproject_path)
        if path.is_dir():
            path = path / "pyproject.toml"
        source = str(path)
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
            section = data.get("tool", {}).get("migrator", {}).get("release", {})
    return settings_from_mapping(section, overrides, source=source)
