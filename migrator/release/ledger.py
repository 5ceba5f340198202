"""The ledger: migrator's state in the target database, schema `migrator` (configurable, quoted everywhere).

releases     one row per release: refs, revisions per phase, state, active colour, timestamps
events       append-only log: who, when, command, result, detail, evidence, forced-with-reason; the events form a
             hash chain, and an event that moves a release carries the state (and colour) it moves it to
applied      each revision applied by a phase command; written in the revision's own transaction
checkpoints  resumable progress of batched backfills
coordinator  who holds the coordinator lock (command, host, client pid, start), for "another command is running"
ledger_meta  the ledger's version and the head of the event chain

Tampering is evident (version 2):
- every event row holds `prev_hash` (the hash of the event before it) and `hash` = {schema}.event_hash(row), the one
  place the hash is computed: a trigger fills both on INSERT (serialized, so the chain never forks) and `verify()`
  recomputes them; `ledger_meta` keeps the chain's head, so removing the last events shows too;
- UPDATE, DELETE and TRUNCATE of events are refused by triggers, TRUNCATE of releases too;
- a release's state, colour and stamps change only through an event: a trigger refuses an UPDATE of `releases` that
  does not point `last_event_id` at a new event of that release carrying the same state and colour, and takes the
  stamps (switched_at, ...) from that event.
The role migrator runs as owns these tables, so it can still disable the triggers: then `verify()` (every command,
and `migrator status`) says where the chain or a release's state stops matching. A chain can be recomputed whole by
someone who sets out to; keep the head hash `migrator status` prints somewhere else (a CI log) to anchor it.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import sql

DEFAULT_SCHEMA = "migrator"
LEDGER_VERSION = 2
KNOWN_VERSIONS = (1, 2)  # 1 is upgraded in place by ensure()

STATES = ("planned", "expanded", "migrated", "switching", "switched", "rolled_back", "contracted")
_STATE_LIST = ", ".join(f"'{s}'" for s in STATES)

_TABLES = f"""
CREATE SCHEMA IF NOT EXISTS {{schema}};
CREATE TABLE IF NOT EXISTS {{schema}}.ledger_meta (version integer NOT NULL, head_id bigint, head_hash text);
CREATE TABLE IF NOT EXISTS {{schema}}.releases (
    id text PRIMARY KEY,
    blue_ref text, blue_sha text, green_ref text, green_sha text,
    revisions jsonb NOT NULL DEFAULT '{{{{}}}}',
    state text NOT NULL CONSTRAINT releases_state_check CHECK (state IN ({_STATE_LIST})),
    active_color text NOT NULL DEFAULT 'blue' CHECK (active_color IN ('blue', 'green')),
    evidence jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    switched_at timestamptz, rolled_back_at timestamptz, contracted_at timestamptz,
    switching_to text CHECK (switching_to IN ('blue', 'green')),
    switching_from text,
    last_event_id bigint
);
CREATE UNIQUE INDEX IF NOT EXISTS releases_one_in_flight ON {{schema}}.releases ((true)) WHERE state <> 'contracted';
CREATE TABLE IF NOT EXISTS {{schema}}.events (
    id bigserial PRIMARY KEY,
    release_id text NOT NULL REFERENCES {{schema}}.releases (id),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text NOT NULL,
    command text NOT NULL,
    result text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{{{{}}}}',
    evidence jsonb,
    forced boolean NOT NULL DEFAULT false,
    reason text,
    state text,
    active_color text,
    prev_hash text,
    hash text,
    CHECK (NOT forced OR reason IS NOT NULL)
);
CREATE TABLE IF NOT EXISTS {{schema}}.applied (
    release_id text NOT NULL REFERENCES {{schema}}.releases (id),
    revision text NOT NULL,
    phase text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (release_id, revision)
);
CREATE TABLE IF NOT EXISTS {{schema}}.checkpoints (
    name text PRIMARY KEY,
    release_id text,
    last_key text,
    rows_done bigint NOT NULL DEFAULT 0,
    finished boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS {{schema}}.coordinator (
    lock_pid integer NOT NULL,
    lock_backend_start timestamptz,
    command text,
    actor text,
    host text,
    client_pid integer,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    applier_pid integer,
    applier_backend_start timestamptz
);
"""

# Functions and triggers: (re)created by every ensure() of a version-2 ledger and by the upgrade from version 1.
_LOGIC = """
CREATE OR REPLACE FUNCTION {schema}.event_hash(e {schema}.events) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        e.id, e.release_id, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), e.actor, e.command,
        e.result, e.detail, e.evidence, e.forced, e.reason, e.state, e.active_color, e.prev_hash)::text, 'UTF8')),
        'hex')
$$;
CREATE OR REPLACE FUNCTION {schema}.events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_hash text;
BEGIN
    -- one writer at a time, and ids in the order of the chain: a new id is drawn once the lock is held
    PERFORM pg_advisory_xact_lock(hashtext('migrator-events:' || TG_TABLE_SCHEMA));
    NEW.id := nextval(pg_get_serial_sequence(format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), 'id'));
    SELECT e.hash INTO last_hash FROM {schema}.events e ORDER BY e.id DESC LIMIT 1;
    NEW.prev_hash := last_hash;
    NEW.hash := {schema}.event_hash(NEW);
    UPDATE {schema}.ledger_meta SET head_id = NEW.id, head_hash = NEW.hash;
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS events_chain ON {schema}.events;
CREATE TRIGGER events_chain BEFORE INSERT ON {schema}.events FOR EACH ROW EXECUTE FUNCTION {schema}.events_chain();
CREATE OR REPLACE FUNCTION {schema}.events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'migrator % are append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$;
DROP TRIGGER IF EXISTS events_append_only ON {schema}.events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON {schema}.events
    FOR EACH ROW EXECUTE FUNCTION {schema}.events_append_only();
DROP TRIGGER IF EXISTS events_no_truncate ON {schema}.events;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {schema}.events
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.events_append_only();
DROP TRIGGER IF EXISTS releases_no_truncate ON {schema}.releases;
CREATE TRIGGER releases_no_truncate BEFORE TRUNCATE ON {schema}.releases
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.events_append_only();
CREATE OR REPLACE FUNCTION {schema}.releases_through_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'planned' OR NEW.active_color <> 'blue' OR NEW.last_event_id IS NOT NULL THEN
            RAISE EXCEPTION 'a new migrator release starts planned, on blue, without events';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'migrator releases are never deleted';
    END IF;
    SELECT e.id, e.at, e.state, e.active_color INTO ev FROM {schema}.events e
        WHERE e.release_id = NEW.id AND e.state IS NOT NULL ORDER BY e.id DESC LIMIT 1;
    IF ev.id IS NULL OR NEW.last_event_id IS DISTINCT FROM ev.id OR ev.id <= coalesce(OLD.last_event_id, 0)
            OR NEW.state IS DISTINCT FROM ev.state OR NEW.active_color IS DISTINCT FROM ev.active_color
            OR NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION 'migrator release % changes only through a new ledger event carrying its state', OLD.id;
    END IF;
    NEW.updated_at := ev.at;
    IF NEW.state = 'switched' AND OLD.state IS DISTINCT FROM 'switched' THEN NEW.switched_at := ev.at; END IF;
    IF NEW.state = 'rolled_back' AND OLD.state IS DISTINCT FROM 'rolled_back' THEN NEW.rolled_back_at := ev.at; END IF;
    IF NEW.state = 'contracted' THEN NEW.contracted_at := ev.at; END IF;
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS releases_through_events ON {schema}.releases;
CREATE TRIGGER releases_through_events BEFORE INSERT OR UPDATE OR DELETE ON {schema}.releases
    FOR EACH ROW EXECUTE FUNCTION {schema}.releases_through_events();
"""

# Version 1 -> 2: the new columns, the wider state check; then hashes for the old events (upgrade_from_v1).
_UPGRADE_V1 = f"""
ALTER TABLE {{schema}}.ledger_meta ADD COLUMN IF NOT EXISTS head_id bigint, ADD COLUMN IF NOT EXISTS head_hash text;
ALTER TABLE {{schema}}.releases DROP CONSTRAINT IF EXISTS releases_state_check;
ALTER TABLE {{schema}}.releases ADD CONSTRAINT releases_state_check CHECK (state IN ({_STATE_LIST}));
ALTER TABLE {{schema}}.releases ADD COLUMN IF NOT EXISTS switching_to text CHECK (switching_to IN ('blue', 'green')),
    ADD COLUMN IF NOT EXISTS switching_from text, ADD COLUMN IF NOT EXISTS last_event_id bigint;
ALTER TABLE {{schema}}.events ADD COLUMN IF NOT EXISTS state text, ADD COLUMN IF NOT EXISTS active_color text,
    ADD COLUMN IF NOT EXISTS prev_hash text, ADD COLUMN IF NOT EXISTS hash text
"""


def actor() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except Exception:  # no user name in some containers
        return f"uid{os.getuid()}@{socket.gethostname()}"


@dataclass
class Release:
    id: str
    state: str
    blue_ref: str | None = None
    blue_sha: str | None = None
    green_ref: str | None = None
    green_sha: str | None = None
    revisions: dict = field(default_factory=dict)
    active_color: str = "blue"
    evidence: dict | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    switched_at: datetime | None = None
    rolled_back_at: datetime | None = None
    contracted_at: datetime | None = None
    switching_to: str | None = None     # state "switching": the colour traffic was being moved to
    switching_from: str | None = None   # state "switching": the state the release was in before

    def to_dict(self) -> dict:
        out = {}
        for k, v in self.__dict__.items():
            out[k] = v.isoformat() if isinstance(v, datetime) else v
        return out


_COLUMNS = ("id", "state", "blue_ref", "blue_sha", "green_ref", "green_sha", "revisions", "active_color", "evidence",
            "created_at", "updated_at", "switched_at", "rolled_back_at", "contracted_at", "switching_to",
            "switching_from")


@dataclass
class ChainCheck:
    """What verify() found: `problem` is None when the chain and every release's state match."""

    version: int
    events: int = 0
    head: str | None = None
    problem: str | None = None
    broken_at: int | None = None   # the first event id that does not fit (None: not an event, or none)

    @property
    def verified(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict:
        return {"version": self.version, "verified": self.verified, "events": self.events, "head": self.head,
                "problem": self.problem, "broken_at": self.broken_at}


class Ledger:
    """Reads and writes the ledger through a psycopg connection (autocommit unless told otherwise)."""

    def __init__(self, conn, schema: str = DEFAULT_SCHEMA):
        self.conn = conn
        self.schema = schema
        self._s = sql.Identifier(schema)
        # a callable giving a new connection (commands.session sets it): see commands._event
        self.reopen: Callable[[], Any] | None = None
        self._columns: str | None = None  # what a release row is read as (a version-1 ledger lacks some columns)

    def q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(schema=self._s)

    def table(self, name: str) -> str:
        """"schema"."name", quoted as PostgreSQL wants it (a mixed-case schema stays itself)."""
        return ".".join(_quote(part) for part in (self.schema, name))

    def exists(self, conn=None) -> bool:
        return (conn or self.conn).execute("SELECT to_regclass(%s)", (self.table("events"),)).fetchone()[0] is not None

    def version(self) -> int | None:
        """The ledger's version (None: no ledger or no version row); several rows (an old bug) count as their
        highest."""
        if not self.exists():
            return None
        row = self.conn.execute(self.q("SELECT max(version) FROM {schema}.ledger_meta")).fetchone()
        return row[0] if row else None

    def ensure(self) -> None:
        """Create the ledger when missing, upgrade a version-1 ledger (idempotent, one transaction)."""
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext('migrator-ledger-ddl'))")
            if not self.exists():
                for statement in _split(_TABLES) + _split(_LOGIC):
                    self.conn.execute(self.q(statement))
                self.conn.execute(self.q("INSERT INTO {schema}.ledger_meta (version) VALUES (%s)"), (LEDGER_VERSION,))
                return
            if self.version() == 1:
                self._upgrade_from_v1()
        self._columns = None

    def _upgrade_from_v1(self) -> None:
        """Version 1 -> 2, inside ensure()'s transaction: the new columns and tables, the old events hashed in
        order, one `ledger upgraded` event per release carrying its state (the states change through events from
        now on), version 2."""
        for statement in _split(_TABLES) + _split(_UPGRADE_V1) + _split(_LOGIC):
            self.conn.execute(self.q(statement))
        self.conn.execute(self.q("ALTER TABLE {schema}.events DISABLE TRIGGER events_append_only"))
        rows = self.conn.execute(self.q("SELECT id FROM {schema}.events ORDER BY id")).fetchall()
        previous = None
        for (event_id,) in rows:
            self.conn.execute(self.q("UPDATE {schema}.events SET prev_hash = %s WHERE id = %s"), (previous, event_id))
            previous = self.conn.execute(self.q("UPDATE {schema}.events e SET hash = {schema}.event_hash(e) "
                                                "WHERE id = %s RETURNING hash"), (event_id,)).fetchone()[0]
        self.conn.execute(self.q("ALTER TABLE {schema}.events ENABLE TRIGGER events_append_only"))
        self.conn.execute(self.q("DELETE FROM {schema}.ledger_meta"))
        self.conn.execute(self.q("INSERT INTO {schema}.ledger_meta (version, head_id, head_hash) VALUES (2, %s, %s)"),
                          (rows[-1][0] if rows else None, previous))
        for release_id, state, color in self.conn.execute(self.q(
                "SELECT id, state, active_color FROM {schema}.releases ORDER BY created_at")).fetchall():
            self.transition(release_id, "ledger", "upgraded", state, active_color=color,
                            detail={"from_version": 1, "to_version": 2})

    # -- releases ---------------------------------------------------------------------------------
    def create_release(self, release: Release, detail: dict | None = None, conn=None) -> Release:
        """A new release, planned, with its `plan succeeded` event (call it inside a transaction)."""
        conn = conn or self.conn
        conn.execute(
            self.q("INSERT INTO {schema}.releases (id, state, blue_ref, blue_sha, green_ref, green_sha, revisions) "
                   "VALUES (%s, 'planned', %s, %s, %s, %s, %s)"),
            (release.id, release.blue_ref, release.blue_sha, release.green_ref, release.green_sha,
             json.dumps(release.revisions)))
        self.transition(release.id, "plan", "succeeded", "planned", active_color="blue", detail=detail, conn=conn)
        created = self.get(release.id, conn=conn)
        assert created is not None, "the release row was inserted above, in this transaction"
        return created

    def columns(self) -> str:
        """The release columns to select; a version-1 ledger (status reads it before any upgrade) has no
        switching_to / switching_from."""
        if self._columns is None:
            names = list(_COLUMNS)
            if self.version() == 1:
                names = [n if n not in ("switching_to", "switching_from") else f"NULL AS {n}" for n in names]
            self._columns = ", ".join(names)
        return self._columns

    def get(self, release_id: str, conn=None) -> Release | None:
        row = (conn or self.conn).execute(
            self.q(f"SELECT {self.columns()} FROM {{schema}}.releases WHERE id = %s"), (release_id,)).fetchone()
        return Release(*row) if row else None

    def in_flight(self) -> Release | None:
        """The release not yet contracted, if any (at most one: a unique index guarantees it)."""
        row = self.conn.execute(self.q(f"SELECT {self.columns()} FROM {{schema}}.releases "
                                       "WHERE state <> 'contracted'")).fetchone()
        return Release(*row) if row else None

    def latest(self) -> Release | None:
        row = self.conn.execute(self.q(f"SELECT {self.columns()} FROM {{schema}}.releases "
                                       "ORDER BY created_at DESC LIMIT 1")).fetchone()
        return Release(*row) if row else None

    def transition(self, release_id: str, command: str, result: str, state: str, *, active_color: str | None = None,
                   detail: dict | None = None, evidence: dict | None = None, release_evidence: dict | None = None,
                   forced: bool = False, reason: str | None = None, switching: tuple[str, str] | None = None,
                   conn=None) -> int:
        """Move a release to `state` (and `active_color`; None: unchanged): the event that says so, then the row.
        `switching` = (target colour, state before) for state "switching". `evidence` is the event's record of the
        evidence (its summary); `release_evidence` the whole accepted document kept with the release. Run it in a
        transaction when a failure in between must not leave the event alone (the row never moves alone)."""
        conn = conn or self.conn
        if state not in STATES:
            raise ValueError(f"unknown release state {state!r}")
        event_id = conn.execute(
            self.q("INSERT INTO {schema}.events (release_id, actor, command, result, detail, evidence, forced, reason, "
                   "state, active_color) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, "
                   "coalesce(%s, (SELECT active_color FROM {schema}.releases WHERE id = %s))) RETURNING id"),
            (release_id, actor(), command, result, json.dumps(detail or {}),
             json.dumps(evidence) if evidence is not None else None, forced, reason, state, active_color,
             release_id)).fetchone()[0]
        to, before = switching if switching else (None, None)
        sets = ["state = %s", "last_event_id = %s", "switching_to = %s", "switching_from = %s",
                "active_color = (SELECT active_color FROM {schema}.events WHERE id = %s)"]
        params: list = [state, event_id, to, before, event_id]
        if release_evidence is not None:
            sets.append("evidence = %s")
            params.append(json.dumps(release_evidence))
        params.append(release_id)
        conn.execute(self.q(f"UPDATE {{schema}}.releases SET {', '.join(sets)} WHERE id = %s"), params)
        return event_id

    def set_state(self, release_id: str, state: str, *, active_color: str | None = None,
                  evidence: dict | None = None, conn=None) -> None:
        """A bare state change, recorded as a `ledger state` event (tests and repairs; commands use transition)."""
        self.transition(release_id, "ledger", "state", state, active_color=active_color, release_evidence=evidence,
                        conn=conn)

    # -- events -----------------------------------------------------------------------------------
    def event(self, release_id: str, command: str, result: str, detail: dict | None = None, *,
              evidence: dict | None = None, forced: bool = False, reason: str | None = None, conn=None) -> int:
        """An event that does not move the release (started, failed, refused, ...)."""
        return (conn or self.conn).execute(
            self.q("INSERT INTO {schema}.events (release_id, actor, command, result, detail, evidence, forced, reason) "
                   "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"),
            (release_id, actor(), command, result, json.dumps(detail or {}),
             json.dumps(evidence) if evidence is not None else None, forced, reason)).fetchone()[0]

    def events(self, release_id: str) -> list[dict]:
        moved = "NULL, NULL" if "NULL AS switching_to" in self.columns() else "state, active_color"
        rows = self.conn.execute(
            self.q(f"SELECT id, at, actor, command, result, detail, forced, reason, {moved} "
                   "FROM {schema}.events WHERE release_id = %s ORDER BY id"), (release_id,)).fetchall()
        return [{"id": r[0], "at": r[1].isoformat(), "actor": r[2], "command": r[3], "result": r[4], "detail": r[5],
                 "forced": r[6], "reason": r[7], "state": r[8], "active_color": r[9]} for r in rows]

    # -- tamper evidence --------------------------------------------------------------------------
    def verify(self) -> ChainCheck:
        """Recompute the event chain and check each release against its latest state event."""
        version = self.version() or 0
        check = ChainCheck(version)
        if version < 2:
            return check  # nothing chained yet: the next command that takes the lock upgrades it
        # the events and the head in one statement (one snapshot): a writer in between is not a broken chain
        rows = self.conn.execute(self.q(
            "SELECT e.id, e.prev_hash, e.hash, {schema}.event_hash(e), NULL, NULL FROM {schema}.events e "
            "UNION ALL SELECT NULL, NULL, NULL, NULL, m.head_id, m.head_hash FROM {schema}.ledger_meta m "
            "ORDER BY 1 NULLS LAST")).fetchall()
        meta = [(r[4], r[5]) for r in rows if r[0] is None]
        previous: tuple[int, str] | None = None
        for event_id, prev_hash, stored, computed, _, _ in (r for r in rows if r[0] is not None):
            check.events += 1
            if stored != computed:
                return _broken(check, event_id, f"event {event_id} was changed after it was written (its hash does "
                                                "not match its content)")
            if prev_hash != (previous[1] if previous else None):
                where = (f"it was not written after event {previous[0]} (events between them were removed or "
                         "changed)" if previous else "it was not the first event (earlier events were removed)")
                return _broken(check, event_id, f"the chain breaks at event {event_id}: {where}")
            previous = (event_id, stored)
        check.head = previous[1] if previous else None
        head_id, head_hash = meta[0] if len(meta) == 1 else (None, None)
        if (head_id, head_hash) != ((previous[0], previous[1]) if previous else (None, None)):
            last = previous[0] if previous else "none"
            return _broken(check, None, f"the chain ends at event {last}, but the ledger's head is event {head_id}: "
                                        "the last events were removed")
        mismatched = self.conn.execute(self.q(
            "SELECT r.id, r.state, r.active_color, r.last_event_id, e.id, e.state, e.active_color "
            "FROM {schema}.releases r LEFT JOIN LATERAL (SELECT id, state, active_color FROM {schema}.events x "
            "WHERE x.release_id = r.id AND x.state IS NOT NULL ORDER BY x.id DESC LIMIT 1) e ON true "
            "WHERE e.id IS NULL OR r.last_event_id IS DISTINCT FROM e.id OR r.state <> e.state "
            "OR r.active_color <> e.active_color ORDER BY r.created_at LIMIT 1")).fetchone()
        if mismatched:
            rid, state, color, _, event_id, ev_state, ev_color = mismatched
            if event_id is None:
                return _broken(check, None, f"release {rid} is {state!r} but no event put it there")
            return _broken(check, event_id, f"release {rid} says {state!r} on {color}, but its latest state event "
                                            f"{event_id} says {ev_state!r} on {ev_color}: the row was changed "
                                            "outside migrator")
        return check

    # -- the coordinator lock's holder ------------------------------------------------------------
    def coordinator_rows(self, conn=None) -> list[dict]:
        rows = (conn or self.conn).execute(self.q(
            "SELECT lock_pid, lock_backend_start, command, actor, host, client_pid, started_at, applier_pid, "
            "applier_backend_start FROM {schema}.coordinator")).fetchall()
        keys = ("lock_pid", "lock_backend_start", "command", "actor", "host", "client_pid", "started_at",
                "applier_pid", "applier_backend_start")
        return [dict(zip(keys, r)) for r in rows]

    # -- applied revisions ------------------------------------------------------------------------
    def mark_applied(self, release_id: str, revision: str, phase: str, conn=None) -> None:
        """Record a revision as applied; call it inside the revision's own transaction."""
        (conn or self.conn).execute(
            self.q("INSERT INTO {schema}.applied (release_id, revision, phase) VALUES (%s, %s, %s) "
                   "ON CONFLICT DO NOTHING"), (release_id, revision, phase))

    def applied(self, release_id: str) -> list[str]:
        rows = self.conn.execute(self.q("SELECT revision FROM {schema}.applied WHERE release_id = %s "
                                        "ORDER BY applied_at"), (release_id,)).fetchall()
        return [r[0] for r in rows]


def _broken(check: ChainCheck, event_id: int | None, problem: str) -> ChainCheck:
    check.problem, check.broken_at = problem, event_id
    return check


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _split(ddl: str) -> list[str]:
    """Split a DDL script at statement ends, keeping $$ function bodies whole."""
    parts, current, in_body = [], [], False
    for line in ddl.strip().splitlines():
        current.append(line)
        if line.count("$$") % 2 == 1:
            in_body = not in_body
        if not in_body and line.rstrip().endswith(";"):
            parts.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    if current and "".join(current).strip():
        parts.append("\n".join(current).rstrip().rstrip(";"))
    return [p for p in parts if p.strip()]
