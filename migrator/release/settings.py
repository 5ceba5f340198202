"""Release settings: `[tool.migrator.release]` of the app's pyproject.toml, overridden by CLI flags.

    [tool.migrator.release]
    lock_timeout = "500ms"          # every DDL session; a lock wait longer than this fails with 55P03 and retries.
                                    # 0 and values under 1ms (= wait forever) are refused: only the command line's
                                    # --no-lock-timeout --reason TEXT runs without one, and the ledger records it
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
from dataclasses import dataclass, fields, replace

from migrator.config import Config, ReleaseSection, load_project_config, read_section
from migrator.durations import parse_duration
from migrator.errors import ConfigError

__all__ = ["ReleaseSettings", "load_release_settings", "parse_duration", "settings_from_config"]


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
    no_lock_timeout: bool = False           # --no-lock-timeout: lock_timeout 0 on purpose (needs --reason)

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


# the command line's keys (the file's names, or field names) -> field values; the file is checked by migrator.config
_OPTION_FIELDS = {"lock_timeout_ms", "statement_timeout_ms", "soak_seconds", "no_lock_timeout"}


def _from_section(section: ReleaseSection, where: str) -> dict:
    """The field values the file gives (defaults stay with ReleaseSettings)."""
    given = section.given
    out: dict = {}
    for name, unit in (("lock_timeout", "lock_timeout_ms"), ("statement_timeout", "statement_timeout_ms")):
        if name in given:
            out[unit] = int(round(getattr(section, name) * 1000))
    for name in ("lock_retries", "retry_backoff_base", "retry_backoff_max", "blue_application_name",
                 "ledger_schema", "evidence_key_env", "require_signed_evidence"):
        if name in given:
            out[name] = getattr(section, name)
    if "soak" in given:
        out["soak_seconds"] = section.soak
    if "retry_backoff" in given:
        out.update({f"retry_backoff_{k}": v for k, v in section.retry_backoff.items()})
    if out.get("blue_application_name") == "":
        out["blue_application_name"] = None
    if "lock_timeout" in given:
        out["_lock_timeout_from"] = f"{where}: lock_timeout = {section.raw['lock_timeout']!r}"
    return out


def _from_options(overrides: dict) -> dict:
    """The command line's values (None = not given), checked as the file's keys are."""
    table: dict = {}
    out: dict = {}
    for name, value in overrides.items():
        if value is None:
            continue
        name = name.replace("-", "_")
        if name not in _OPTION_FIELDS:
            table[name] = value
            continue
        try:
            if name == "no_lock_timeout":
                out[name] = bool(value)
            elif name == "soak_seconds":
                out[name] = parse_duration(value)
            else:
                if isinstance(value, bool) or int(value) < 0:
                    raise ValueError("must be >= 0 milliseconds")
                out[name] = int(value)
                if name == "lock_timeout_ms":
                    out["_lock_timeout_from"] = f"option: lock_timeout_ms = {value!r}"
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"option: {name} = {value!r}: {exc}") from None
    values = _from_section(read_section(ReleaseSection, table, "option"), "option")
    if "lock_timeout" in table:
        values["_lock_timeout_from"] = f"--lock-timeout {table['lock_timeout']}"
    return {**values, **out}


def settings_from_config(config: Config, overrides: dict | None = None) -> ReleaseSettings:
    """[tool.migrator.release] of a loaded config, then `overrides` (the command line's values)."""
    where = f"{config.source}: [tool.migrator.release]" if config.source else "[tool.migrator.release]"
    values = _from_section(config.release, where)
    values.update(_from_options(overrides or {}))
    origin = values.pop("_lock_timeout_from", None)
    if values.get("no_lock_timeout"):
        if origin and origin.startswith("--"):
            raise ConfigError("--no-lock-timeout and --lock-timeout exclude each other")
        values["lock_timeout_ms"] = 0
    elif values.get("lock_timeout_ms", 1) == 0:
        raise ConfigError(f"{origin or 'lock_timeout'}: 0 (or less than 1ms) means DDL waits for its locks forever, "
                          "and application queries queue behind it; give at least 1ms, or run with "
                          "--no-lock-timeout --reason TEXT (recorded in the ledger)")
    settings = ReleaseSettings(**values)
    if settings.retry_backoff_max < settings.retry_backoff_base:
        settings = replace(settings, retry_backoff_max=settings.retry_backoff_base)
    return settings


def load_release_settings(pyproject_path, overrides: dict | None = None) -> ReleaseSettings:
    """Read [tool.migrator.release] from `pyproject_path` (missing file or section -> defaults), then apply
    `overrides` (CLI flags; None values are ignored; keys as in the TOML, e.g. lock_timeout="1s", or field
    names, e.g. lock_timeout_ms=1000)."""
    return settings_from_config(load_project_config(pyproject_path), overrides)
