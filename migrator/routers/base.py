"""The router protocol every hook implements, and the fail-closed way migrator calls one."""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from migrator.durations import seconds_of
from migrator.errors import ConfigError, MigratorError
from migrator.routers.protocol import (
    CURRENT, FAILED, IN_PROGRESS, INCONCLUSIVE, SUCCEEDED, HookPayload, HookResponse, ResponseError, deadline_at)

WHERE = "[tool.migrator.hook]"


class HookFailed(MigratorError):
    """The router hook failed or timed out (exit 1)."""

    exit_code = 1


@runtime_checkable
class RouterHook(Protocol):
    """What migrator needs from a traffic router.

    - `switch(payload)`: make `payload.to_color` the active colour. Idempotent: it sets the desired state and
      never toggles; `payload.action` is "switch" or "rollback" (the same operation, the colours swapped).
    - `verify(payload)`: is the router serving `payload.to_color` now? "succeeded" means yes; answer
      "in_progress" while it is still on the way, and report `observed.active_color` when known.
    - `current()`: the colour served now ("blue" / "green"), or None when it cannot tell.

    Optional: `gate(payload)` for the pre-switch check (action "gate"); a router without one has no check of
    its own and the gate reports that. Methods return a HookResponse or a dict in the response format; an
    exception counts as a failed call. A class registered under the `migrator.routers` entry-point group may
    provide `from_config(config: dict, *, project_dir=None)`; otherwise it is called with the config dict.
    """

    def switch(self, payload: HookPayload) -> HookResponse: ...

    def verify(self, payload: HookPayload) -> HookResponse: ...

    def current(self) -> str | None: ...


def check_keys(config: dict, known: set[str], kind: str) -> None:
    """A router's table holds only the keys its kind knows."""
    unknown = set(config) - known
    if unknown:
        raise ConfigError(f"{WHERE}: unknown key(s) {', '.join(sorted(unknown))} for kind = \"{kind}\" "
                          f"(known: {', '.join(sorted(known))})")


def targets_of(config: dict) -> dict:
    targets = config.get("targets") or {}
    if not isinstance(targets, dict):
        raise ConfigError(f"{WHERE}: targets must be a table (colour -> address)")
    return targets


def timings(config: dict) -> dict[str, float]:
    """timeout, deadline and poll_interval as given (durations), for the router's keyword arguments."""
    return {k: seconds_of(config[k], k, WHERE) for k in ("timeout", "deadline", "poll_interval") if k in config}


class OneCallRouter:
    """A router whose every action is one call of `call_router(payload)` (a command, a webhook)."""

    timeout: float
    targets: dict

    def call_router(self, payload: HookPayload) -> HookResponse:
        raise NotImplementedError

    def switch(self, payload: HookPayload) -> HookResponse:
        return self.call_router(payload)

    def verify(self, payload: HookPayload) -> HookResponse:
        return self.call_router(payload)

    def gate(self, payload: HookPayload) -> HookResponse:
        return self.call_router(payload)

    def current(self, payload: HookPayload | None = None) -> str | None:
        """Ask (action "current") which colour is live; None unless the answer succeeds and says so."""
        response = self.describe_current(payload)
        return response.observed_color if response.ok else None

    def describe_current(self, payload: HookPayload | None = None) -> HookResponse:
        """The whole answer to action "current" (for `migrator router check`: the reason when there is no colour)."""
        if payload is None:
            payload = HookPayload(None, "current", CURRENT, deadline=deadline_at(self.timeout), targets=self.targets)
        return self.call_router(payload)


def hook_name(hook) -> str:
    return getattr(hook, "name", None) or type(hook).__name__


def call(hook, method: str, payload: HookPayload) -> HookResponse:
    """Call `hook.<method>(payload)` and never raise: an exception or a malformed answer is a failed response."""
    if method == "gate" and not callable(getattr(hook, "gate", None)):
        return HookResponse(SUCCEEDED, f"router {hook_name(hook)!r} has no pre-switch check of its own")
    try:
        return HookResponse.coerce(getattr(hook, method)(payload))
    except ResponseError as exc:
        return HookResponse(FAILED, f"{hook_name(hook)} {method}: invalid response: {exc}")
    except Exception as exc:  # a third-party router's bug must not open a gate
        return HookResponse(FAILED, f"{hook_name(hook)} {method} raised {type(exc).__name__}: {exc}")


def record(response: HookResponse, payload: HookPayload, started: float) -> dict:
    """One line of a call trail (kept in HookResponse.calls and in the ledger's event detail)."""
    return {"action": payload.action, "phase": payload.phase, "attempt": payload.attempt,
            "to_color": payload.to_color, "status": response.status, "message": response.message,
            "observed": response.observed_color, "seconds": round(time.monotonic() - started, 3)}


def why_not(response: HookResponse) -> str:
    """Why an answer is not a plain success, in the words every command uses (`switch`, `router check`)."""
    detail = f" ({response.message})" if response.message else ""
    if response.status == FAILED:
        return response.message or "the hook reported failure"
    if response.status == INCONCLUSIVE:
        return "inconclusive: a human has to decide" + detail
    if response.status == IN_PROGRESS:
        return "still in progress" + detail
    if response.observed_color is None:
        return "answered succeeded but named no colour" + detail
    return response.message or ""
