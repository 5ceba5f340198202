"""A release phase across the fleet: wave after wave, at most `concurrency` databases at a time, each through the
single-database command (migrator.release.commands: its own ledger, coordinator lock and gates).

- Databases whose ledger already records the phase are skipped (read first, no lock taken): every run resumes.
- plan: the canary (the first, of several) is planned alone first; every other database is planned under its
  release id (one from the canary's clock, or the one an earlier run recorded there).
- A wave stops at its first failure: no further database starts, the running ones finish; later waves do not
  start. The failure names the database (password hidden) and why.
- Sharded (--shard I/N), a worker runs its own databases of each wave, and before a wave it reads the ledgers of
  the earlier waves' databases the other shards hold: the next wave starts only when all of them are through the
  phase (it waits up to --wave-wait seconds; an earlier database that failed stops it at once).
- contract: the router is switched once, by `migrator switch` against the canary (its ledger records the switch
  and the soak). `--after-switch` acknowledges it for the other databases: each gets a `switch` event naming that
  switch (no router call), then runs its own contract gate (evidence, traffic on green, no rollback, no blue
  sessions, the live-data preflight). Their soak is 0: the canary's contract gate, which runs first, enforced the
  soak since the one router switch.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migrator.errors import MigratorError
from migrator.fleet.config import Member
from migrator.fleet.shards import Shard
from migrator.fleet.status import DbState, for_database, read_many, read_one, reached
from migrator.fleet.waves import Wave
from migrator.release import state as st
from migrator.release.errors import PreconditionFailed

if TYPE_CHECKING:
    from migrator.release.commands import ReleaseContext

log = logging.getLogger("migrator.fleet")

PHASES = ("plan", "expand", "migrate", "contract")
TARGET = {"plan": st.PLANNED, "expand": st.EXPANDED, "migrate": st.MIGRATED, "contract": st.CONTRACTED}
POLL_SECONDS = 2.0


class WaveBlocked(MigratorError):
    """The next wave cannot start: databases of earlier waves (other shards) are not through the phase."""

    exit_code = 1


@dataclass
class Outcome:
    member: Member
    wave: str
    result: str  # done | noop | skipped | failed | not_started
    state: str | None = None
    message: str = ""
    exit_code: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"database": self.member.shown, "identity": self.member.identity, "wave": self.wave,
                "result": self.result, "state": self.state, "message": self.message, "exit_code": self.exit_code,
                "seconds": round(self.seconds, 3)}


@dataclass
class FleetRun:
    phase: str
    template: ReleaseContext  # unresolved: the options every database's command gets
    waves: list[Wave]
    shard: Shard
    concurrency: int
    release_id: str | None = None
    after_switch: bool = False
    wave_wait: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    stopped: Outcome | None = None
    blocked: str | None = None
    blocked_code: int = 0


# --- the database a log line is about ---------------------------------------------------------------------------

_local = threading.local()


class _Tag(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        tag = getattr(_local, "tag", None)
        if tag and not getattr(record, "_fleet_tagged", False):
            record.msg = f"[{tag}] {record.msg}"
            record._fleet_tagged = True
        return True


_TAG = _Tag()


def tag_logs() -> None:
    """Prefix migrator's log lines with the database they are about (its name) while the fleet runs."""
    for handler in logging.getLogger("migrator").handlers:
        if _TAG not in handler.filters:
            handler.addFilter(_TAG)


# --- one database ---------------------------------------------------------------------------------------------


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _contract_one(run: FleetRun, ctx, ack_ctx, member: Member, record: DbState, is_record: bool) -> dict:
    """contract on one database; a database that is `migrated` gets the fleet's switch acknowledged first."""
    from migrator.release import commands

    if is_record:
        return commands.contract(ctx)
    canary_now = read_one(run.template, record.member, run.release_id)
    if canary_now.state != st.CONTRACTED:
        raise PreconditionFailed(
            f"cannot contract: the canary {record.member.shown}, which records the fleet's router switch, is "
            f"{canary_now.state!r}: its contract gate (the soak since the switch, traffic on green) passes first",
            "migrator fleet contract")
    with commands.session(ack_ctx, command="contract") as (conn, ledger):
        release = ledger.get(run.release_id)
        if release is None:
            raise PreconditionFailed(f"cannot contract: no release {run.release_id!r} in this database's ledger",
                                     "migrator fleet plan")
        if release.state == st.MIGRATED:
            if not run.after_switch:
                raise PreconditionFailed(
                    f"cannot contract: release {release.id} is 'migrated' here: the router switch is recorded on "
                    f"the canary {record.member.shown}; pass --after-switch to acknowledge that one switch for "
                    "this database")
            if release.green_sha != record.green_sha:
                raise PreconditionFailed(
                    f"cannot contract: release {release.id} here is for green {str(release.green_sha)[:12]}, the "
                    f"switch recorded on the canary for {str(record.green_sha)[:12]}")
            at = record.switched_at.isoformat() if record.switched_at else None
            with conn.transaction():
                ledger.transition(
                    release.id, "switch", "succeeded", st.SWITCHED, active_color="green",
                    detail={"fleet": {"router_called": False, "acknowledged_by": "migrator fleet contract "
                                      "--after-switch", "router_switch": {"database": record.member.shown,
                                                                          "release": record.release_id,
                                                                          "switched_at": at}}},
                    release_evidence=record.evidence,
                    reason=f"fleet: one router switch, recorded on {record.member.shown} at {at}", conn=conn)
            log.info("switch acknowledged (recorded on the canary %s)", record.member.shown)
    return commands.contract(ack_ctx)


def _job(run: FleetRun, ctx_for, member: Member, wave: str, record: DbState | None) -> Outcome:
    from migrator.release import commands

    _local.tag = member.identity.rsplit("/", 1)[-1]
    started = time.monotonic()
    try:
        ctx = ctx_for(member, False)
        if run.phase == "contract":
            assert record is not None  # execute() reads the canary's record before a contract
            is_record = member.identity == record.member.identity
            result = _contract_one(run, ctx, ctx_for(member, True), member, record, is_record)
        else:
            result = commands.run(run.phase, ctx)
        kind = "noop" if result.get("result") == "noop" else "done"
        return Outcome(member, wave, kind, result.get("state"), _one_line(result.get("message") or ""),
                       seconds=time.monotonic() - started)
    except MigratorError as exc:
        code = int(getattr(exc, "exit_code", 2))
        return Outcome(member, wave, "failed", None, _one_line(commands.scrub(exc, member.url)), code,
                       time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - one database's bug is that database's failure, never a traceback
        message = commands.scrub(f"internal error: {type(exc).__name__}: {exc}", member.url)
        return Outcome(member, wave, "failed", None, _one_line(message)[:500], 2, time.monotonic() - started)
    finally:
        _local.tag = None


# --- waves ----------------------------------------------------------------------------------------------------


def _run_wave(run: FleetRun, ctx_for, wave: Wave, todo: list[Member], record: DbState | None) -> list[Outcome]:
    """At most `concurrency` at a time; after the first failure no further database starts."""
    outcomes: list[Outcome] = []
    queue = list(todo)
    failed = False
    with ThreadPoolExecutor(max_workers=max(1, min(run.concurrency, len(todo) or 1))) as pool:
        running: set[Future[Outcome]] = set()
        while True:
            while queue and not failed and len(running) < run.concurrency:
                member = queue.pop(0)
                running.add(pool.submit(_job, run, ctx_for, member, wave.name, record))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                outcome = future.result()
                outcomes.append(outcome)
                if outcome.result == "failed":
                    if not failed:
                        log.error("wave %s: %s failed: %s", wave.name, outcome.member.shown, outcome.message)
                    failed = True
    outcomes += [Outcome(m, wave.name, "not_started") for m in queue]
    return outcomes


def _belongs(run: FleetRun, s: DbState, green_sha: str | None) -> bool:
    """A database's ledger records the phase for the fleet's release."""
    if not reached(s.state, TARGET[run.phase]):
        return False
    if run.phase == "plan":
        return green_sha is None or s.green_sha == green_sha
    return True


def _wait_for_earlier(run: FleetRun, earlier: list[Member], wave: Wave, green_sha: str | None) -> None:
    """Hold the wave until every database of the earlier waves that other shards hold is through the phase."""
    if not earlier:
        return
    deadline = time.monotonic() + run.wave_wait
    announced = False
    while True:
        states = read_many(run.template, earlier, run.release_id, run.concurrency)
        pending = [s for s in states if not _belongs(run, s, green_sha)]
        if not pending:
            return
        for s in pending:
            if s.stopped and s.last and s.last.get("command") in (run.phase, "switch" if run.phase == "contract"
                                                                    else run.phase):
                raise WaveBlocked(f"wave {wave.name} cannot start: {s.member.shown} (an earlier wave, another "
                                  f"shard) {s.last['result']} at {run.phase}: {s.last.get('error') or 'see its ledger'}")
        if time.monotonic() >= deadline:
            names = ", ".join(f"{s.member.shown} ({s.state})" for s in pending[:5])
            more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
            raise WaveBlocked(f"wave {wave.name} cannot start: {len(pending)} database(s) of earlier waves, held by "
                              f"other shards, are not {TARGET[run.phase]} yet: {names}{more}; re-run later, or give "
                              "--wave-wait SECONDS")
        if not announced:
            log.info("wave %s waits for %d database(s) of earlier waves (other shards)", wave.name, len(pending))
            announced = True
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())) or 0.05)


def _leader(run: FleetRun, canary: Member, record: DbState | None) -> Member | None:
    """The database that runs alone before the rest of its wave, or None. contract: the canary that records the
    switch (its gate serves the soak first). plan without --release: the canary, whose release id every other
    database is then planned under (planned side by side, each would stamp an id of its own from its clock)."""
    if record is not None:
        return record.member
    if run.phase == "plan" and run.release_id is None:
        return canary
    return None


def _take_canarys_release_id(run: FleetRun, canary: Member) -> None:
    run.release_id = read_one(run.template, canary, None).release_id  # the canary's release id is every database's


def execute(run: FleetRun) -> FleetRun:
    """Run the phase over the shard's databases, wave by wave. Fills run.outcomes, run.stopped / run.blocked.
    Every database's phase runs from the one checkout: git is asked where it stands once."""
    from migrator.release import commands

    with commands.pinned_checkout(run.template.project_dir):
        return _execute(run)


def _execute(run: FleetRun) -> FleetRun:
    from migrator.release import commands

    template = run.template
    contexts: dict[bool, ReleaseContext] = {}

    def ctx_for(member: Member, acknowledged: bool):
        """A resolved context per kind (acknowledged switch: soak 0), copied for each database."""
        if acknowledged not in contexts:
            base = dataclasses.replace(template, overrides={**template.overrides, "soak": "0"}, settings=None) \
                if acknowledged else dataclasses.replace(template)
            base.database_url = base.database_url or "postgresql://unset"  # resolve() must not read the env's
            contexts[acknowledged] = base.resolve()
        ctx = for_database(contexts[acknowledged], member.url)
        ctx.release_id = run.release_id
        return ctx

    ctx_for(run.waves[0].members[0], False)  # the options are checked once, before any database (exit 2)
    run.template = contexts[False]
    canary = run.waves[0].members[0]
    green_sha = commands.git_info(template.project_dir).sha if run.phase == "plan" else None
    record: DbState | None = None
    if run.phase != "plan":
        first = read_one(run.template, canary, run.release_id)
        if first.state == "error":
            raise PreconditionFailed(f"cannot {run.phase}: the canary {canary.shown} cannot be read: {first.error}")
        if first.release_id is None:
            raise PreconditionFailed(f"cannot {run.phase}: no release is planned on the canary {canary.shown}",
                                     "migrator fleet plan --blue REF")
        run.release_id = run.release_id or first.release_id
        if run.phase == "contract":
            if first.state not in (st.SWITCHED, st.CONTRACTED):
                raise PreconditionFailed(
                    f"cannot contract: the router switch is not recorded: release {run.release_id} is "
                    f"{first.state!r} on the canary {canary.shown}, which records the fleet's one switch",
                    "migrator switch --to green --evidence FILE --database-url <the canary's URL>")
            record = first
            if not run.after_switch:
                mine = [m for w in run.waves for m in w.members
                        if run.shard.holds(m.identity) and m.identity != canary.identity]
                waiting = [s for s in read_many(run.template, mine, run.release_id, run.concurrency)
                           if s.state == st.MIGRATED]
                if waiting:
                    raise PreconditionFailed(
                        f"cannot contract: {len(waiting)} database(s) (e.g. {waiting[0].member.shown}) are 'migrated': "
                        f"the fleet's one router switch is recorded on the canary {canary.shown}; pass --after-switch "
                        "to acknowledge it for them (their ledgers then record it, naming the canary's)")
    tag_logs()
    leader = _leader(run, canary, record)
    done_before: list[Member] = []
    for index, wave in enumerate(run.waves):
        mine = [m for m in wave.members if run.shard.holds(m.identity)]
        others = [m for m in done_before if not run.shard.holds(m.identity)]
        unnamed = run.phase == "plan" and run.release_id is None
        beside_canary = unnamed and index == 0 and bool(mine) and canary not in mine  # another shard plans it
        if beside_canary:
            others = [canary]
        if run.stopped is None and run.blocked is None:
            try:
                _wait_for_earlier(run, others, wave, green_sha)
            except WaveBlocked as exc:
                run.blocked, run.blocked_code = str(exc), exc.exit_code
        if unnamed and (index > 0 or beside_canary) and run.stopped is None and run.blocked is None:
            _take_canarys_release_id(run, canary)
        if run.stopped is not None or run.blocked is not None:
            run.outcomes += [Outcome(m, wave.name, "not_started") for m in mine]
            done_before += wave.members
            continue
        todo = mine
        if mine and (run.release_id is not None or run.phase != "plan"):
            states = read_many(run.template, mine, run.release_id, run.concurrency)
            skipped = [s for s in states if _belongs(run, s, green_sha)]
            run.outcomes += [Outcome(s.member, wave.name, "skipped", s.state, f"already {s.state}")
                             for s in skipped]
            gone = {s.member.identity for s in skipped}
            todo = [m for m in mine if m.identity not in gone]
        if todo:
            log.info("wave %s: %s on %d database(s)%s", wave.name, run.phase, len(todo),
                     f" (shard {run.shard})" if run.shard.count > 1 else "")
        leading = [m for m in todo if leader is not None and m.identity == leader.identity]
        if leading:
            outcomes = _run_wave(run, ctx_for, wave, leading, record)
            rest = [m for m in todo if m not in leading]
            if any(o.result == "failed" for o in outcomes):
                outcomes += [Outcome(m, wave.name, "not_started") for m in rest]
            else:
                if run.phase == "plan" and run.release_id is None:
                    _take_canarys_release_id(run, canary)
                outcomes += _run_wave(run, ctx_for, wave, rest, record)
        else:
            outcomes = _run_wave(run, ctx_for, wave, todo, record)
        run.outcomes += outcomes
        failed = [o for o in outcomes if o.result == "failed"]
        if failed:
            run.stopped = failed[0]
        done_before += wave.members
    return run
