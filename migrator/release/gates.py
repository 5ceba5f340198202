"""The switch and contract gates. Fail closed: every check must positively pass; a pending or unknown check is a
refusal, and no timer ever turns a pending check into a pass (the soak time is a requirement, not a timeout).

The release state (expand and migrate done, traffic switched) is checked by state.require, not here; the gates
check what the state machine cannot know: the evidence, the live database, the router and the sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from migrator.hooks.base import call, hook_name
from migrator.hooks.contract import (
    BLUE, DEFAULT_TIMEOUT, FAILED, GATE, GREEN, SUCCEEDED, VERIFY, HookPayload, deadline_at, evidence_summary)
from migrator.release.errors import GateRefused

PASS, FAIL, PENDING = "pass", "fail", "pending"

# rollback events with these results moved nothing (refused by a precondition, or a no-op re-run); any other
# rollback event after the switch (succeeded, failed half-way, ...) means traffic may have gone back to blue
ROLLBACK_RESULTS_THAT_MOVED_NOTHING = ("refused", "noop")


@dataclass
class Check:
    name: str
    status: str  # pass | fail | pending
    detail: str

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass
class GateResult:
    """passed only when every check passed; reasons = the detail of each check that did not."""

    passed: bool
    reasons: list[str]
    gate: str = ""
    checks: list[Check] = field(default_factory=list)

    @classmethod
    def of(cls, gate: str, checks: list[Check]) -> "GateResult":
        reasons = [f"{c.name}: {c.detail}" for c in checks if c.status != PASS]
        return cls(bool(checks) and not reasons, reasons, gate, checks)

    @property
    def pending(self) -> bool:
        """Not passed, but only because something is still under way (nothing failed outright)."""
        return not self.passed and all(c.status in (PASS, PENDING) for c in self.checks)

    def raise_if_refused(self) -> None:
        if not self.passed:
            raise GateRefused(self.gate, self.reasons)

    def to_dict(self) -> dict:
        return {"gate": self.gate, "passed": self.passed, "reasons": self.reasons,
                "checks": [c.to_dict() for c in self.checks]}


# -- switch ---------------------------------------------------------------------------------------------------
def switch_gate(conn, release, evidence: dict, live_fingerprint: str, hook, *,
                deadline: datetime | float | None = None) -> GateResult:
    """May traffic move to green? The compat evidence passed, was made against the schema that is live now and
    for this release's blue and green commits; and the router hook's pre-switch check (action "gate", phase
    "pre-switch") succeeds. `conn` is accepted for symmetry with contract_gate (the live fingerprint is given)."""
    checks: list[Check] = []
    if not isinstance(evidence, dict):
        checks.append(Check("evidence", FAIL, "no compat evidence (pass --evidence FILE from `migrator compat`)"))
        evidence = {}
    else:
        result = evidence.get("result")
        if result == "pass":
            checks.append(Check("evidence", PASS, "compat evidence passed"))
        else:
            why = f" ({evidence['reason']})" if evidence.get("reason") else ""
            checks.append(Check("evidence", FAIL, f"compat evidence result is {result!r}, not 'pass'{why}"))

    have = evidence.get("schema_fingerprint")
    if not have:
        checks.append(Check("fingerprint", FAIL, "the evidence has no schema fingerprint"))
    elif not live_fingerprint:
        checks.append(Check("fingerprint", FAIL, "the live database's schema fingerprint is unknown"))
    elif have != live_fingerprint:
        checks.append(Check("fingerprint", FAIL, f"the evidence was made against schema {have[:12]}, the live "
                            f"database has {live_fingerprint[:12]}; rerun `migrator compat` against this schema"))
    else:
        checks.append(Check("fingerprint", PASS, f"evidence schema {have[:12]} is the live schema"))

    problems = []
    for color, want in ((BLUE, release.blue_sha), (GREEN, release.green_sha)):
        got = (evidence.get(color) or {}).get("sha") if isinstance(evidence.get(color), dict) else None
        if not want:
            problems.append(f"release {release.id} records no {color} sha")
        elif not got:
            problems.append(f"the evidence names no {color} sha")
        elif not _same_sha(got, want):
            problems.append(f"evidence {color} is {got[:12]}, release {release.id} {color} is {want[:12]}")
    if isinstance(evidence.get(GREEN), dict) and evidence[GREEN].get("dirty"):
        problems.append("the evidence was made from a green working tree with uncommitted changes")
    if problems:
        checks.append(Check("release", FAIL, "; ".join(problems) + " (evidence for another release?)"))
    else:
        checks.append(Check("release", PASS, f"evidence is for release {release.id} (blue {release.blue_sha[:12]}, "
                            f"green {release.green_sha[:12]})"))

    checks.append(_hook_check(hook, "router", HookPayload(
        release.id, "pre-switch", GATE, BLUE, GREEN,
        deadline=deadline_at(deadline, getattr(hook, "timeout", DEFAULT_TIMEOUT)),
        evidence=evidence_summary(evidence), targets=dict(getattr(hook, "targets", None) or {})),
        "pre-switch check"))
    return GateResult.of("switch", checks)


# -- contract -------------------------------------------------------------------------------------------------
def contract_gate(conn, release, ledger, hook, soak_seconds: float, blue_application_name=None, *,
                  deadline: datetime | float | None = None) -> GateResult:
    """May blue's schema go? The router confirms traffic on green (verify, phase "pre-contract"); `soak_seconds`
    passed since release.switched_at (0 allowed; database clock); no rollback since the last switch; no session
    with application_name `blue_application_name` (a string or a list; None: not checked) in this database."""
    checks: list[Check] = []
    checks.append(_hook_check(hook, "traffic", HookPayload(
        release.id, "pre-contract", VERIFY, BLUE, GREEN,
        deadline=deadline_at(deadline, getattr(hook, "timeout", DEFAULT_TIMEOUT)),
        evidence=evidence_summary(release.evidence), targets=dict(getattr(hook, "targets", None) or {})),
        "traffic on green", want_color=GREEN))

    if release.switched_at is None:
        checks.append(Check("soak", FAIL, f"release {release.id} was never switched to green"))
        checks.append(Check("rollback", FAIL, "no switch recorded"))
    else:
        elapsed = float(conn.execute("SELECT extract(epoch FROM clock_timestamp() - %s::timestamptz)",
                                     (release.switched_at,)).fetchone()[0])
        soak = float(soak_seconds)
        if elapsed >= soak:
            checks.append(Check("soak", PASS, f"{_human(elapsed)} on green (soak {_human(soak)})"))
        else:
            checks.append(Check("soak", PENDING, f"{_human(elapsed)} of {_human(soak)} soak on green elapsed since "
                                f"the switch; {_human(soak - elapsed)} to go"))

        rolled_back = release.rolled_back_at is not None and release.rolled_back_at > release.switched_at
        rows = conn.execute(ledger.q(
            "SELECT at, result FROM {schema}.events WHERE release_id = %s AND command = 'rollback' AND at > %s "
            "AND result <> ALL(%s) ORDER BY at"),
            (release.id, release.switched_at, list(ROLLBACK_RESULTS_THAT_MOVED_NOTHING))).fetchall()
        if rolled_back or rows:
            when = rows[-1][0] if rows else release.rolled_back_at
            what = f" (result {rows[-1][1]!r})" if rows else ""
            todo = ("switch to green again first" if rolled_back else
                    "finish it (`migrator rollback`) and switch to green again, or contract with --force --reason")
            checks.append(Check("rollback", FAIL, f"a rollback at {when.isoformat()}{what} came after the switch at "
                                f"{release.switched_at.isoformat()}; {todo}"))
        else:
            checks.append(Check("rollback", PASS, "no rollback since the switch"))

    names = [blue_application_name] if isinstance(blue_application_name, str) else list(blue_application_name or [])
    names = [n for n in names if n]
    if not names:
        checks.append(Check("blue sessions", PASS, "not checked (blue_application_name is not configured)"))
    else:
        rows = conn.execute(
            "SELECT pid, application_name, host(client_addr), backend_start FROM pg_stat_activity "
            "WHERE application_name = ANY(%s) AND datname = current_database() AND pid <> pg_backend_pid() "
            "ORDER BY backend_start", (names,)).fetchall()
        label = " or ".join(repr(n) for n in names)
        if rows:
            shown = ", ".join(f"pid {r[0]}" + (f" from {r[2]}" if r[2] else "") for r in rows[:5])
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            checks.append(Check("blue sessions", PENDING, f"{len(rows)} session(s) of blue (application_name "
                                f"{label}) still connected: {shown}{more}"))
        else:
            checks.append(Check("blue sessions", PASS, f"no session with application_name {label}"))
    return GateResult.of("contract", checks)


# -- helpers --------------------------------------------------------------------------------------------------
def _hook_check(hook, name: str, payload: HookPayload, what: str, want_color: str | None = None) -> Check:
    if hook is None:
        return Check(name, FAIL, "no router hook configured ([tool.migrator.hook])")
    response = call(hook, "gate" if payload.action == GATE else "verify", payload)
    label = f"{hook_name(hook)} {what}"
    message = f": {response.message}" if response.message else ""
    if response.status == SUCCEEDED:
        observed = response.observed_color
        if want_color and observed not in (None, want_color):
            return Check(name, FAIL, f"{label}: the router serves {observed}, not {want_color}{message}")
        return Check(name, PASS, f"{label} succeeded{message}")
    if response.status == FAILED:
        return Check(name, FAIL, f"{label} failed{message}")
    return Check(name, PENDING, f"{label} is {response.status}{message} (a pending check is a refusal)")


def _same_sha(a: str, b: str) -> bool:
    a, b = a.strip().lower(), b.strip().lower()
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 7 and long_.startswith(short)


def _human(seconds: float) -> str:
    """0.3s, 42s, 15m, 60m, 1.5h: the soak messages' units."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
