"""The result of a release command (plan, expand, migrate, switch, rollback, contract, status) as a typed object.

migrator.release.commands builds the result as a dict (the library API, the fleet runner and the tests read it so);
ReleaseResult.from_dict() gives it its type, and migrator.release.render reads its attributes. `to_dict()` gives
back the same fields in the same order: the JSON output does not change. Nested values (the plan, a gate, the
phases) stay the JSON dicts of their own objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class ReleaseResult:
    command: str
    result: str = "ok"  # ok, noop; refused or error for a failed command
    release_id: str | None = None
    state: str | None = None
    previous_state: str | None = None
    active_color: str | None = None
    next_command: str | None = None
    message: str = ""
    exit_code: int | None = None  # set: a status of a tampered ledger (2), or a failed command
    # plan
    plan: dict | None = None
    blue_sha: str | None = None
    green_sha: str | None = None
    green_ref: str | None = None
    green_dirty: bool | None = None
    recorded: bool | None = None
    # expand / migrate / switch / rollback / contract
    applied: list[str] | None = None
    revisions: list[str] | None = None
    gate: Any = None  # a gate dict; an error's gate name
    forced: bool | None = None
    soak: dict | None = None
    observed: str | None = None
    evidence: dict | None = None
    next_when: str | None = None
    # status
    database: str | None = None
    alembic_heads: list[str] | None = None
    ledger_schema: str | None = None
    ledger: dict | None = None
    blue: dict | None = None
    green: dict | None = None
    phases: dict | None = None
    timestamps: dict | None = None
    drift: str | None = None
    gates: dict | None = None
    events: list[dict] | None = None
    switching: dict | None = None
    # a failed command
    error: str | None = None
    reasons: list[str] | None = None
    # the fields the command set, in its order (what to_dict() and the JSON output show)
    keys: tuple[str, ...] = field(default=(), repr=False, compare=False)
    # not shown: one line for stderr after the result (why the exit code is not 0)
    complaint: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict) -> "ReleaseResult":
        known = {f.name for f in fields(cls)} - {"keys", "complaint"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"release result fields not declared in ReleaseResult: {sorted(unknown)}")
        return cls(**data, keys=tuple(data))

    def to_dict(self) -> dict:
        return {key: getattr(self, key) for key in self.keys}

    @property
    def failed(self) -> bool:
        return self.result in ("refused", "error")


def error_result(command: str, exc: BaseException, exit_code: int) -> ReleaseResult:
    """A failed command as a result (stdout with --format json; text goes to stderr)."""
    out: dict[str, Any] = {"command": command, "result": "refused" if exit_code == 1 else "error",
                           "exit_code": exit_code, "message": str(exc), "error": type(exc).__name__}
    for attr in ("reasons", "gate", "next_command"):
        value = getattr(exc, attr, None)
        if value:
            out[attr] = value
    return ReleaseResult.from_dict(out)
