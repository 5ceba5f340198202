"""The expand, switch and contract gates. Fail closed: every check must positively pass; a pending or unknown check
is a refusal, and no timer ever turns a pending check into a pass (the soak time is a requirement, not a timeout).

The release state (expand and migrate done, traffic switched) is checked by state.require, not here; the gates
check what the state machine cannot know: the evidence, the live database, the router and the sessions. The
compat evidence's verdict is recomputed from its cells, never taken from its `result` alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from migrator.durations import human_seconds
from migrator.evidence import Evidence, EvidenceError
from migrator.routers.base import call, hook_name
from migrator.routers.protocol import (
    BLUE, DEFAULT_TIMEOUT, FAILED, GATE, GREEN, SUCCEEDED, VERIFY, HookPayload, deadline_at)
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


# -- evidence -------------------------------------------------------------------------------------------------
# the cells each gate needs (docs/release.md): what runs on the schema the step leaves behind
EXPAND_CELLS = ("blue/expanded",)
SWITCH_CELLS = ("blue/expanded", "green/expanded")
CONTRACT_CELLS = ("green/contracted",)

_MISSING_CELL = {
    "blue/expanded": "rerun `migrator compat`: blue's suite on the expanded schema",
    "green/expanded": "rerun `migrator compat` so that green's suite runs on the expanded schema too",
    "green/contracted": "run `migrator compat --full`: green's suite on the contracted schema",
}


@dataclass(frozen=True)
class Signing:
    """What the release asks of the evidence's signature: `key` from the environment, and whether an unsigned
    file is refused ([tool.migrator.release] require_signed_evidence)."""

    key: bytes | None = None
    required: bool = False


def evidence_checks(evidence: Evidence | None, release, cells: tuple[str, ...], signing: Signing, *,
                    schema: str | None = None, live_fingerprint: str | None = None) -> list[Check]:
    """The checks every gate makes of the compat evidence. The verdict is recomputed from the cells (`result` is
    never trusted alone): each cell in `cells` is present, passed, ran at least one test and none failed. With
    `schema` ("blue" or "expanded"), that schema of the evidence must be the live one."""
    if evidence is None:
        return [Check("evidence", FAIL, "no compat evidence (pass --evidence FILE from `migrator compat`)")]
    checks = []
    if evidence.result == "pass":
        checks.append(Check("evidence", PASS, "compat evidence passed"))
    else:
        why = f" ({evidence.reason})" if evidence.reason else ""
        checks.append(Check("evidence", FAIL, f"compat evidence result is {evidence.result!r}, not 'pass'{why}"))
    checks.append(_signature_check(evidence, signing))
    checks.append(_cells_check(evidence, cells))
    if schema is not None:
        checks.append(_fingerprint_check(getattr(evidence.schemas, schema), live_fingerprint, schema))
    checks.append(_release_check(evidence, release))
    return checks


def _signature_check(evidence: Evidence, signing: Signing) -> Check:
    check = evidence.verify(signing.key)
    if check.status == "verified":
        return Check("signature", PASS, check.detail)
    if check.status == "bad":
        return Check("signature", FAIL, check.detail)
    if signing.required:
        if signing.key is None:
            return Check("signature", FAIL, "the release requires signed evidence (require_signed_evidence), but "
                                            "no evidence key is set here (MIGRATOR_EVIDENCE_KEY or evidence_key_env)")
        return Check("signature", FAIL, "the evidence is not signed, and the release requires signed evidence "
                                        "(require_signed_evidence): run `migrator compat` with the evidence key set")
    if check.status == "unverified":
        return Check("signature", PASS, f"{check.detail} (signed evidence is not required)")
    return Check("signature", PASS, "not signed (signed evidence is not required)")


def _cells_check(evidence: Evidence, cells: tuple[str, ...]) -> Check:
    problems, proven = [], []
    for name in cells:
        app, schema = name.split("/")
        cell = evidence.cell(app, schema)
        if cell is None:
            problems.append(f"the evidence has no {name} cell; {_MISSING_CELL[name]}")
        elif cell.problems():
            problems.append(f"{name}: " + ", ".join(cell.problems()))
        else:
            proven.append(f"{name} {cell.passed} passed")
    if problems:
        return Check("cells", FAIL, "; ".join(problems))
    return Check("cells", PASS, ", ".join(proven))


def _fingerprint_check(have: str | None, live: str | None, schema: str) -> Check:
    if not have:
        return Check("fingerprint", FAIL, f"the evidence has no {schema} schema fingerprint")
    if not live:
        return Check("fingerprint", FAIL, "the live database's schema fingerprint is unknown")
    if have != live and schema == "blue":
        return Check("fingerprint", FAIL, f"the evidence built blue's schema as {have[:12]}, the live database has "
                                          f"{live[:12]}: it is not at blue's schema; rerun `migrator compat --blue "
                                          "<the ref production runs>` against this database's version")
    if have != live:
        return Check("fingerprint", FAIL, f"the evidence was made against schema {have[:12]}, the live database "
                                          f"has {live[:12]}; rerun `migrator compat` against this schema")
    return Check("fingerprint", PASS, f"evidence {schema} schema {have[:12]} is the live schema")


def _release_check(evidence: Evidence, release) -> Check:
    problems = []
    for color, want in ((BLUE, release.blue_sha), (GREEN, release.green_sha)):
        got = getattr(evidence, color).sha
        if not want:
            problems.append(f"release {release.id} records no {color} sha")
        elif not _same_sha(got, want):
            problems.append(f"evidence {color} is {got[:12]}, release {release.id} {color} is {want[:12]}")
    if evidence.green.dirty:
        problems.append("the evidence was made from a green working tree with uncommitted changes")
    if problems:
        return Check("release", FAIL, "; ".join(problems) + " (evidence for another release?)")
    return Check("release", PASS, f"evidence is for release {release.id} (blue {release.blue_sha[:12]}, "
                                  f"green {release.green_sha[:12]})")


def _payload_evidence(evidence: Evidence | None) -> dict:
    return evidence.summary() if evidence is not None else {}


# -- expand ---------------------------------------------------------------------------------------------------
def expand_gate(conn, release, evidence: Evidence | None, live_fingerprint: str | None, *,
                applied: list[str] | tuple[str, ...] = (), signing: Signing = Signing()) -> GateResult:
    """May green's expand revisions run? Blue's suite passed on the expanded schema (cell blue/expanded), for this
    release's commits; and, while none of the release's revisions is applied (`applied`), the live schema is still
    the one the evidence built blue's on (schemas.blue). `conn` is accepted for symmetry with the other gates."""
    if applied:
        checks = evidence_checks(evidence, release, EXPAND_CELLS, signing)
        if evidence is not None:
            checks.insert(3, Check("fingerprint", PASS, f"not compared: {', '.join(applied)} of this release "
                                                        "already applied (a re-run after an interruption)"))
    else:
        checks = evidence_checks(evidence, release, EXPAND_CELLS, signing, schema="blue",
                                 live_fingerprint=live_fingerprint)
    return GateResult.of("expand", checks)


# -- switch ---------------------------------------------------------------------------------------------------
def switch_gate(conn, release, evidence: Evidence | None, live_fingerprint: str, hook, *,
                deadline: datetime | float | None = None, signing: Signing = Signing()) -> GateResult:
    """May traffic move to green? Blue's and green's suites passed on the expanded schema (cells blue/expanded,
    green/expanded), that schema is the live one now, the evidence is for this release's blue and green commits;
    and the router hook's pre-switch check (action "gate", phase "pre-switch") succeeds. `conn` is accepted for
    symmetry with contract_gate (the live fingerprint is given)."""
    checks = evidence_checks(evidence, release, SWITCH_CELLS, signing, schema="expanded",
                             live_fingerprint=live_fingerprint)
    checks.append(_hook_check(hook, "router", HookPayload(
        release.id, "pre-switch", GATE, BLUE, GREEN,
        deadline=deadline_at(deadline, getattr(hook, "timeout", DEFAULT_TIMEOUT)),
        evidence=_payload_evidence(evidence), targets=dict(getattr(hook, "targets", None) or {})),
        "pre-switch check"))
    return GateResult.of("switch", checks)


# -- contract -------------------------------------------------------------------------------------------------
def contract_gate(conn, release, ledger, hook, soak_seconds: float, blue_application_name=None, *,
                  deadline: datetime | float | None = None, evidence: Evidence | None = None,
                  live_fingerprint: str | None = None, signing: Signing = Signing()) -> GateResult:
    """May blue's schema go? Green's suite passed on the contracted schema (cell green/contracted of `evidence`,
    else of the evidence the ledger stored at the switch or expand), built from the live schema; the router
    confirms traffic on green (verify, phase "pre-contract"); `soak_seconds` passed since release.switched_at
    (0 allowed; database clock); no rollback since the last switch; no session with application_name
    `blue_application_name` (a string or a list; None: not checked) in this database."""
    checks: list[Check] = []
    if evidence is None and release.evidence:
        try:
            evidence = Evidence.from_dict(release.evidence)
        except EvidenceError as exc:
            checks.append(Check("evidence", FAIL, f"the evidence stored in the ledger is not usable ({exc}); pass "
                                                  "--evidence FILE from `migrator compat --full`"))
    if not checks:
        checks += evidence_checks(evidence, release, CONTRACT_CELLS, signing, schema="expanded",
                                  live_fingerprint=live_fingerprint)
    checks.append(_hook_check(hook, "traffic", HookPayload(
        release.id, "pre-contract", VERIFY, BLUE, GREEN,
        deadline=deadline_at(deadline, getattr(hook, "timeout", DEFAULT_TIMEOUT)),
        evidence=_payload_evidence(evidence), targets=dict(getattr(hook, "targets", None) or {})),
        "traffic on green", want_color=GREEN))

    if release.switched_at is None:
        checks.append(Check("soak", FAIL, f"release {release.id} was never switched to green"))
        checks.append(Check("rollback", FAIL, "no switch recorded"))
    else:
        elapsed = float(conn.execute("SELECT extract(epoch FROM clock_timestamp() - %s::timestamptz)",
                                     (release.switched_at,)).fetchone()[0])
        soak = float(soak_seconds)
        if elapsed >= soak:
            checks.append(Check("soak", PASS, f"{human_seconds(elapsed)} on green (soak {human_seconds(soak)})"))
        else:
            checks.append(Check("soak", PENDING, f"{human_seconds(elapsed)} of {human_seconds(soak)} soak on green elapsed since "
                                f"the switch; {human_seconds(soak - elapsed)} to go"))

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


