"""Moving traffic through a router hook: switch (idempotent, desired state), then verify until the router really
serves the new colour or the deadline passes. Fail closed: anything but a confirmed colour raises HookFailed."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime

from migrator.routers.base import HookFailed, call, hook_name, record, why_not
from migrator.routers.protocol import (
    BLUE, DEFAULT_DEADLINE, DEFAULT_POLL_INTERVAL, FAILED, GREEN, IN_PROGRESS, INCONCLUSIVE, ROLLBACK, SUCCEEDED,
    SWITCH, VERIFY, HookPayload, HookResponse, deadline_at, iso, utcnow)

log = logging.getLogger("migrator.routers.traffic")
PROGRESS_EVERY = 5.0  # seconds between progress lines while the router is polled (none for a quick switch)


class TrafficFailed(HookFailed):
    """HookFailed from move_traffic: the `stage` ("switch" / "verify") it failed at, every hook call, the last
    answer (`response`, None if there was none) and whether the router may have moved (`switch_called`)."""

    def __init__(self, message: str, stage: str, calls: list[dict], response: HookResponse | None) -> None:
        super().__init__(message)
        self.stage, self.calls, self.response = stage, calls, response
        self.switch_called = any(c["action"] in (SWITCH, ROLLBACK) for c in calls)


class _Progress:
    """Rate-limited progress lines on the `migrator` logger (stderr in the CLI) while a step is polled."""

    def __init__(self, what: str, end: datetime):
        self.what, self.end = what, end
        self.last = time.monotonic()

    def __call__(self, text: str) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        left = max(0, int((self.end - utcnow()).total_seconds()))
        log.info("%s: %s, %ds left", self.what, text, left)


def move_traffic(hook, release_id: str, to_color: str, from_color: str, phase: str, evidence: dict | None,
                 deadline: datetime | float | None, reason: str | None = None, *, action: str | None = None,
                 dry_run: bool = False, metadata: dict | None = None, poll_interval: float | None = None,
                 sleep=time.sleep) -> HookResponse:
    """Make `to_color` the live colour and prove it.

    1. `switch` (action "switch", or "rollback" when phase is "rollback"): repeated while the hook answers
       in_progress (after its retry_after_s, else the poll interval). The same idempotency key every attempt.
    2. `verify` until it succeeds with `observed.active_color` == `to_color` (or no colour reported: a succeeded
       verify means "to_color is live"); a reported other colour counts as in progress.
    `deadline` (absolute datetime, or seconds from now; None: the hook's `deadline`, default 1 h) bounds both.
    Returns the confirming verify response, with `.calls` listing every hook call. Raises HookFailed on a failed
    or inconclusive answer or when the deadline passes; the exception carries `.stage` ("switch" / "verify"),
    `.calls`, `.response` (the last answer) and `.switch_called` (whether the router may have moved).
    With dry_run=True only the switch step runs, with dry_run set in the payload.
    """
    if to_color not in (BLUE, GREEN) or from_color not in (BLUE, GREEN) or to_color == from_color:
        raise ValueError(f"cannot move traffic from {from_color!r} to {to_color!r}")
    action = action or (ROLLBACK if phase == ROLLBACK else SWITCH)
    end = deadline_at(deadline, getattr(hook, "deadline", DEFAULT_DEADLINE))
    poll = poll_interval if poll_interval is not None else getattr(hook, "poll_interval", DEFAULT_POLL_INTERVAL)
    name = hook_name(hook)
    calls: list[dict] = []
    first = HookPayload(release_id=release_id, phase=phase, action=action, from_color=from_color, to_color=to_color,
                        deadline=end, dry_run=dry_run, reason=reason, evidence=dict(evidence or {}),
                        metadata=dict(metadata or {}), targets=dict(getattr(hook, "targets", None) or {}))
    what = f"{action} {from_color} -> {to_color}"

    def fail(stage: str, message: str, response: HookResponse | None) -> TrafficFailed:
        return TrafficFailed(f"router hook {name!r}: {what} failed at {stage}: {message}", stage, calls, response)

    def wait(response: HookResponse, stage: str) -> None:
        remaining = (end - utcnow()).total_seconds()
        if remaining <= 0:
            raise fail(stage, f"deadline {iso(end)} passed while the hook was still in progress"
                       + (f" ({response.message})" if response.message else ""), response)
        sleep(max(0.0, min(response.retry_after_s if response.retry_after_s is not None else poll, remaining)))

    # 1. switch: set the desired colour
    progress = _Progress(what, end)
    payload = first
    while True:
        started = time.monotonic()
        response = call(hook, "switch", payload)
        calls.append(record(response, payload, started))
        if response.status == SUCCEEDED:
            break
        if response.status in (FAILED, INCONCLUSIVE):
            raise fail("switch", why_not(response), response)
        progress(f"{action} attempt {payload.attempt} in progress" + _detail(response))
        wait(response, "switch")
        payload = payload.next_attempt()
    if dry_run:
        response.calls = calls
        return response

    # 2. verify: poll until the router serves to_color
    progress = _Progress(what, end)
    payload = replace(first, action=VERIFY)
    answer: HookResponse | None = None  # the last verify answer
    observed: str | None = None

    def too_late() -> TrafficFailed:
        last = f"; last observed colour: {observed}" if observed else ""
        return fail("verify", f"deadline {iso(end)} passed before the router confirmed {to_color}{last}", answer)

    while True:
        if utcnow() >= end:
            raise too_late()
        started = time.monotonic()
        answer = call(hook, "verify", payload)
        calls.append(record(answer, payload, started))
        observed = answer.observed_color or observed
        if answer.status == SUCCEEDED and answer.observed_color in (None, to_color):
            if answer.observed_color is None:
                answer.observed = {**answer.observed, "active_color": to_color}
            answer.calls = calls
            return answer
        if answer.status in (FAILED, INCONCLUSIVE):
            raise fail("verify", why_not(answer), answer)
        if answer.status == SUCCEEDED:  # answered, but the router still serves the other colour
            answer = HookResponse(IN_PROGRESS, f"router still serves {observed}", answer.retry_after_s,
                                  answer.observed)
        if (end - utcnow()).total_seconds() <= 0:
            raise too_late()
        progress(f"waiting for the router to serve {to_color}: verify attempt {payload.attempt}, "
                 f"router serves {observed or 'an unknown colour'}")
        wait(answer, "verify")
        payload = payload.next_attempt()


def rollback_traffic(hook, release_id: str, evidence: dict | None = None, deadline: datetime | float | None = None,
                     reason: str | None = None, failed_phase: str | None = None, *, to_color: str = BLUE,
                     from_color: str = GREEN, **kwargs) -> HookResponse:
    """The same hook with the colours swapped: action "rollback", phase "rollback", `reason` and the failed phase
    (metadata.failed_phase) set. Moves traffic only; applied migrations stay."""
    metadata = dict(kwargs.pop("metadata", None) or {})
    if failed_phase:
        metadata["failed_phase"] = failed_phase
    return move_traffic(hook, release_id, to_color, from_color, ROLLBACK, evidence, deadline, reason,
                        action=ROLLBACK, metadata=metadata, **kwargs)


def _detail(response: HookResponse) -> str:
    return f" ({response.message})" if response.message else ""
