"""The hook contract `bg-hook/v1`: what migrator sends a router hook and what it accepts back.

Every router hook (command, webhook, nginx, third-party entry points) receives a `HookPayload` and answers a
`HookResponse`; docs/hooks.md is the user-facing description of both.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

SCHEMA = "bg-hook/v1"

BLUE, GREEN = "blue", "green"
COLORS = (BLUE, GREEN)

# actions a hook is asked to perform
SWITCH, VERIFY, ROLLBACK, GATE, CURRENT = "switch", "verify", "rollback", "gate", "current"
ACTIONS = (SWITCH, VERIFY, ROLLBACK, GATE, CURRENT)

# release phases a call belongs to (hooks.md section 2); the action says what to do, the phase says when
PHASES = ("pre-expand", "post-expand", "pre-switch", "switch", "post-switch", "pre-contract", "post-contract",
          "rollback", "event", "current")

# response statuses, from best to worst: the more cautious of two opinions wins (see worse())
SUCCEEDED, IN_PROGRESS, INCONCLUSIVE, FAILED = "succeeded", "in_progress", "inconclusive", "failed"
STATUSES = (SUCCEEDED, IN_PROGRESS, INCONCLUSIVE, FAILED)

# exit codes of a command hook
EXIT_SUCCEEDED = 0
EXIT_IN_PROGRESS = 75  # EX_TEMPFAIL

# defaults (seconds)
DEFAULT_TIMEOUT = 300.0  # one attempt of a command hook
DEFAULT_DEADLINE = 3600.0  # one phase: switch + verify, polled until then
DEFAULT_POLL_INTERVAL = 1.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, millisecond precision: 2026-05-01T12:00:00.123Z."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def deadline_at(deadline: datetime | float | int | None, default: float = DEFAULT_DEADLINE) -> datetime:
    """An absolute, timezone-aware deadline from a datetime, a number of seconds from now, or None (default)."""
    if deadline is None:
        deadline = default
    if isinstance(deadline, datetime):
        if deadline.tzinfo is None:
            raise ValueError("a hook deadline must be timezone-aware")
        return deadline
    return utcnow() + timedelta(seconds=float(deadline))


def worse(a: str, b: str) -> str:
    """The more cautious of two statuses (succeeded < in_progress < inconclusive < failed)."""
    return a if STATUSES.index(a) >= STATUSES.index(b) else b


@dataclass(frozen=True)
class HookPayload:
    """One call to a router hook. `to_dict()` is the JSON document a hook receives."""

    release_id: str | None
    phase: str
    action: str
    from_color: str | None = None
    to_color: str | None = None
    attempt: int = 1
    deadline: datetime | None = None
    dry_run: bool = False
    reason: str | None = None
    evidence: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"unknown hook action {self.action!r} (expected one of {', '.join(ACTIONS)})")
        for name in ("from_color", "to_color"):
            value = getattr(self, name)
            if value is not None and value not in COLORS:
                raise ValueError(f"{name} must be 'blue' or 'green', not {value!r}")

    @property
    def idempotency_key(self) -> str:
        """release:phase:action:to_color: equal for every attempt of the same call, so a hook can dedupe."""
        return ":".join((self.release_id or "-", self.phase, self.action, self.to_color or "-"))

    def next_attempt(self) -> "HookPayload":
        return replace(self, attempt=self.attempt + 1)

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "idempotency_key": self.idempotency_key,
            "release_id": self.release_id,
            "phase": self.phase,
            "action": self.action,
            "from_color": self.from_color,
            "to_color": self.to_color,
            "attempt": self.attempt,
            "deadline": iso(self.deadline) if self.deadline else None,
            "dry_run": self.dry_run,
            "reason": self.reason,
            "targets": self.targets,
            "evidence": self.evidence,
            "metadata": self.metadata,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=False, default=str)

    def env(self) -> dict[str, str]:
        """The same facts as environment variables (for command hooks)."""
        d = self.to_dict()
        return {
            "BG_SCHEMA": SCHEMA,
            "BG_RELEASE_ID": self.release_id or "",
            "BG_PHASE": self.phase,
            "BG_ACTION": self.action,
            "BG_FROM": self.from_color or "",
            "BG_TO": self.to_color or "",
            "BG_IDEMPOTENCY_KEY": self.idempotency_key,
            "BG_DEADLINE": d["deadline"] or "",
            "BG_ATTEMPT": str(self.attempt),
            "BG_DRY_RUN": "1" if self.dry_run else "0",
        }


class ResponseError(ValueError):
    """A hook answered something that is not a bg-hook/v1 response."""


@dataclass
class HookResponse:
    """A hook's answer. `observed_color` is what the router reports serving (None: not reported)."""

    status: str
    message: str | None = None
    retry_after_s: float | None = None
    observed: dict = field(default_factory=dict)
    calls: list[dict] = field(default_factory=list)  # filled by move_traffic: one entry per hook call

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ResponseError(f"unknown status {self.status!r} (expected one of {', '.join(STATUSES)})")

    @property
    def ok(self) -> bool:
        return self.status == SUCCEEDED

    @property
    def observed_color(self) -> str | None:
        return (self.observed or {}).get("active_color")

    @classmethod
    def failed(cls, message: str) -> "HookResponse":
        return cls(FAILED, message)

    @classmethod
    def from_dict(cls, data, *, default_status: str | None = None) -> "HookResponse":
        """Validate a decoded JSON response. `default_status` fills a missing "status" (a command hook's exit
        code speaks for it); without one, "status" is required. Raises ResponseError."""
        if not isinstance(data, dict):
            raise ResponseError(f"expected a JSON object, got {type(data).__name__}")
        status = data.get("status", default_status)
        if status is None:
            raise ResponseError('missing "status"')
        if status not in STATUSES:
            raise ResponseError(f'unknown "status" {status!r} (expected one of {", ".join(STATUSES)})')
        message = data.get("message")
        if message is not None and not isinstance(message, str):
            raise ResponseError('"message" must be a string')
        retry = data.get("retry_after_s")
        if retry is not None:
            if isinstance(retry, bool) or not isinstance(retry, (int, float)) or not math.isfinite(retry) or retry < 0:
                raise ResponseError('"retry_after_s" must be a non-negative number')
            retry = float(retry)
        observed = data.get("observed") or {}
        if not isinstance(observed, dict):
            raise ResponseError('"observed" must be an object')
        color = observed.get("active_color")
        if color is not None and color not in COLORS:
            raise ResponseError(f'"observed.active_color" must be "blue", "green" or null, not {color!r}')
        return cls(status, message, retry, dict(observed))

    @classmethod
    def coerce(cls, value) -> "HookResponse":
        """What a Python router returned: a HookResponse, or a dict in the response format."""
        if isinstance(value, HookResponse):
            return value
        return cls.from_dict(value)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"status": self.status, "message": self.message, "retry_after_s": self.retry_after_s,
               "observed": self.observed}
        if self.calls:
            out["calls"] = self.calls
        return out
