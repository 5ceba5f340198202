"""Each database's ledger read (no lock, nothing written), and the fleet's state from them.

A database is in exactly one category: the state of the fleet's release in its ledger (planned, expanded,
migrated, switching, switched, rolled_back, contracted), `unplanned` (no ledger, or no such release) or `error`
(it could not be read). So the counts add up to the fleet's size, per wave and in all.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from migrator.errors import MigratorError
from migrator.fleet.config import Member
from migrator.release import state as st

UNPLANNED, ERROR = "unplanned", "error"
CATEGORIES = (UNPLANNED, *st.STATES, ERROR)
STOPPED = ("failed", "refused", "interrupted")


@dataclass
class DbState:
    member: Member
    state: str  # one of CATEGORIES
    release_id: str | None = None
    green_sha: str | None = None
    active_color: str | None = None
    last: dict | None = None  # the release's last event: command, result, at, error
    error: str | None = None  # why it could not be read
    verified: bool | None = None  # the ledger's hash chain
    switched_at: datetime | None = None
    evidence: dict | None = None  # the evidence the release keeps (the switch record's is copied on)

    @property
    def stopped(self) -> bool:
        """Its last step failed, was refused or interrupted (it stays where it was)."""
        return bool(self.last and self.last.get("result") in STOPPED)

    def to_dict(self) -> dict:
        return {"database": self.member.shown, "identity": self.member.identity, "state": self.state,
                "release_id": self.release_id, "active_color": self.active_color, "last_event": self.last,
                "error": self.error, "ledger_verified": self.verified}


def for_database(base_ctx, url: str):
    """A copy of a resolved ReleaseContext aimed at one database."""
    return dataclasses.replace(base_ctx, database_url=url, lock=None)


def read_one(base_ctx, member: Member, release_id: str | None, *, verify: bool = False) -> DbState:
    """The fleet's release as `member`'s ledger records it (release_id None: its release in flight, else its
    latest). Never raises: an unreadable database is state `error` with the one-line reason."""
    from migrator.release import commands
    from migrator.release.ledger import Ledger

    ctx = for_database(base_ctx, member.url)
    try:
        with commands.session(ctx, lock=False, ensure=False) as (conn, _):
            if not commands.ledger_exists(conn, ctx.schema):
                return DbState(member, UNPLANNED)
            ledger = Ledger(conn, schema=ctx.schema)
            release = ledger.get(release_id) if release_id else (ledger.in_flight() or ledger.latest())
            if release is None:
                return DbState(member, UNPLANNED)
            events = ledger.events(release.id)
            last = None
            if events:
                e = events[-1]
                error = (e.get("detail") or {}).get("error") if isinstance(e.get("detail"), dict) else None
                if e["result"] == "refused" and not error:
                    gate = (e.get("detail") or {}).get("gate") or {}
                    error = "; ".join(gate.get("reasons") or []) or None
                last = {"command": e["command"], "result": e["result"], "at": e["at"],
                        "error": commands.scrub(error, member.url) if error else None}
            verified = ledger.verify().verified if verify else None
            return DbState(member, release.state, release.id, release.green_sha, release.active_color, last,
                           verified=verified, switched_at=release.switched_at, evidence=release.evidence)
    except MigratorError as exc:
        return DbState(member, ERROR, error=_one_line(commands.scrub(exc, member.url)))
    except Exception as exc:  # noqa: BLE001 - a database that cannot be read is shown, never a traceback
        return DbState(member, ERROR, error=_one_line(commands.scrub(f"{type(exc).__name__}: {exc}", member.url)))


def read_many(base_ctx, members: list[Member], release_id: str | None, concurrency: int, *,
              verify: bool = False) -> list[DbState]:
    if not members:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(members)))) as pool:
        return list(pool.map(lambda m: read_one(base_ctx, m, release_id, verify=verify), members))


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:500]


def fleet_release_id(base_ctx, canary: Member, given: str | None) -> tuple[str | None, DbState]:
    """The release the fleet works on: --release, else the canary's (in flight, else its latest)."""
    first = read_one(base_ctx, canary, given)
    if given:
        return given, first
    return first.release_id, first


_COMMAND_OF = {st.EXPANDED: "expand", st.MIGRATED: "migrate", st.CONTRACTED: "contract"}


def reached(state: str, target: str) -> bool:
    """True when a database in `state` went through the step that leads to `target` (planned, expanded, migrated,
    contracted)."""
    if state in (UNPLANNED, ERROR):
        return False
    if target == st.PLANNED:
        return True
    return st.done(_COMMAND_OF[target], state)


def counts(states: list[DbState]) -> dict:
    out = {c: 0 for c in CATEGORIES}
    for s in states:
        out[s.state] += 1
    return {k: v for k, v in out.items() if v}


def summarize(waves, states: list[DbState], release_id: str | None, canary: DbState, shard) -> dict:
    """The fleet status result: per wave and per database, with counts, and the next step."""
    by_identity = {s.member.identity: s for s in states}
    wave_rows, databases = [], []
    for wave in waves:
        rows = [by_identity[m.identity] for m in wave.members if m.identity in by_identity]
        if not rows:
            continue
        wave_rows.append({**wave.to_dict(), "databases": len(rows), "counts": counts(rows),
                          "stopped": sum(1 for r in rows if r.stopped)})
        databases += [{**r.to_dict(), "wave": wave.name} for r in rows]
    total = counts(states)
    size = len(states)
    out = {"command": "fleet status", "result": "ok", "release_id": release_id, "shard": str(shard),
           "databases_total": size, "counts": total, "waves": wave_rows, "databases": databases,
           "stopped": sum(1 for s in states if s.stopped), "errors": total.get(ERROR, 0),
           "switch_ready": False, "next_command": None, "message": ""}
    at_least = lambda state: all(reached(s.state, state) for s in states)  # noqa: E731
    if size and all(s.state == st.CONTRACTED for s in states):
        out["message"] = "the whole fleet is contracted"
    elif size and canary.state in (st.SWITCHED, st.CONTRACTED) and at_least(st.MIGRATED):
        out["message"] = (f"traffic was switched (recorded on the canary {canary.member.shown}); contract runs "
                          "per database")
        out["next_command"] = "migrator fleet contract --after-switch"
    elif size and at_least(st.MIGRATED):
        out["switch_ready"] = True
        out["message"] = ("the whole fleet is expanded and migrated: switch traffic once (one router call), "
                          f"recorded on the canary {canary.member.shown}")
        out["next_command"] = ("migrator switch --to green --evidence FILE --database-url <the canary's URL>, "
                               "then migrator fleet contract --after-switch")
    elif size and at_least(st.EXPANDED):
        out["next_command"] = "migrator fleet migrate"
    elif size and at_least(st.PLANNED):
        out["next_command"] = "migrator fleet expand --evidence FILE"
    else:
        out["next_command"] = "migrator fleet plan --blue REF"
    if not out["message"]:
        out["message"] = ", ".join(f"{v} {k}" for k, v in total.items())
    return out
