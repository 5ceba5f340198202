"""The ledger: migrator's state in the target database, schema `migrator` (configurable).

releases   one row per release: refs, revisions per phase, state, active colour, timestamps
events     append-only log: who, when, command, result, detail, evidence, forced-with-reason
applied    each revision applied by a phase command; written in the revision's own transaction
checkpoints  resumable progress of batched backfills
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import dataclass, field
from datetime import datetime

from psycopg import sql

DEFAULT_SCHEMA = "migrator"
LEDGER_VERSION = 1

_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.ledger_meta (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS {schema}.releases (
    id text PRIMARY KEY,
    blue_ref text, blue_sha text, green_ref text, green_sha text,
    revisions jsonb NOT NULL DEFAULT '{{}}',
    state text NOT NULL CHECK (state IN ('planned', 'expanded', 'migrated', 'switched', 'rolled_back', 'contracted')),
    active_color text NOT NULL DEFAULT 'blue' CHECK (active_color IN ('blue', 'green')),
    evidence jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    switched_at timestamptz, rolled_back_at timestamptz, contracted_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS releases_one_in_flight ON {schema}.releases ((true)) WHERE state <> 'contracted';
CREATE TABLE IF NOT EXISTS {schema}.events (
    id bigserial PRIMARY KEY,
    release_id text NOT NULL REFERENCES {schema}.releases (id),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text NOT NULL,
    command text NOT NULL,
    result text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{{}}',
    evidence jsonb,
    forced boolean NOT NULL DEFAULT false,
    reason text,
    CHECK (NOT forced OR reason IS NOT NULL)
);
CREATE OR REPLACE FUNCTION {schema}.events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'migrator events are append-only';
END
$$;
DROP TRIGGER IF EXISTS events_append_only ON {schema}.events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON {schema}.events
    FOR EACH ROW EXECUTE FUNCTION {schema}.events_append_only();
CREATE TABLE IF NOT EXISTS {schema}.applied (
    release_id text NOT NULL REFERENCES {schema}.releases (id),
    revision text NOT NULL,
    phase text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (release_id, revision)
);
CREATE TABLE IF NOT EXISTS {schema}.checkpoints (
    name text PRIMARY KEY,
    release_id text,
    last_key text,
    rows_done bigint NOT NULL DEFAULT 0,
    finished boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""


def actor() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except Exception:  # no user name in some containers
        return f"uid{__import__('os').getuid()}@{socket.gethostname()}"


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

    def to_dict(self) -> dict:
        out = {}
        for k, v in self.__dict__.items():
            out[k] = v.isoformat() if isinstance(v, datetime) else v
        return out


_COLUMNS = ("id", "state", "blue_ref", "blue_sha", "green_ref", "green_sha", "revisions", "active_color", "evidence",
            "created_at", "updated_at", "switched_at", "rolled_back_at", "contracted_at")


class Ledger:
    """Reads and writes the ledger through a psycopg connection (autocommit unless told otherwise)."""

    def __init__(self, conn, schema: str = DEFAULT_SCHEMA):
        self.conn = conn
        self.schema = schema
        self._s = sql.Identifier(schema)

    def q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(schema=self._s)

    def ensure(self) -> None:
        """Create the ledger schema and tables when missing (idempotent, one transaction)."""
        with self.conn.transaction():
            self.conn.execute(self.q("SELECT pg_advisory_xact_lock(hashtext('migrator-ledger-ddl'))"))
            exists = self.conn.execute("SELECT to_regclass(%s)", (f"{self.schema}.events",)).fetchone()[0]
            if exists is None:
                for statement in _split(_DDL):
                    self.conn.execute(self.q(statement))
                self.conn.execute(self.q("INSERT INTO {schema}.ledger_meta (version) VALUES (%s)"), (LEDGER_VERSION,))

    # -- releases ---------------------------------------------------------------------------------
    def create_release(self, release: Release) -> Release:
        self.conn.execute(
            self.q("INSERT INTO {schema}.releases (id, state, blue_ref, blue_sha, green_ref, green_sha, revisions) "
                   "VALUES (%s, %s, %s, %s, %s, %s, %s)"),
            (release.id, release.state, release.blue_ref, release.blue_sha, release.green_ref, release.green_sha,
             json.dumps(release.revisions)))
        return self.get(release.id)

    def get(self, release_id: str) -> Release | None:
        row = self.conn.execute(self.q(f"SELECT {', '.join(_COLUMNS)} FROM {{schema}}.releases WHERE id = %s"),
                                (release_id,)).fetchone()
        return Release(*row) if row else None

    def in_flight(self) -> Release | None:
        """The release not yet contracted, if any (at most one: a unique index guarantees it)."""
        row = self.conn.execute(self.q(f"SELECT {', '.join(_COLUMNS)} FROM {{schema}}.releases "
                                       "WHERE state <> 'contracted'")).fetchone()
        return Release(*row) if row else None

    def latest(self) -> Release | None:
        row = self.conn.execute(self.q(f"SELECT {', '.join(_COLUMNS)} FROM {{schema}}.releases "
                                       "ORDER BY created_at DESC LIMIT 1")).fetchone()
        return Release(*row) if row else None

    def set_state(self, release_id: str, state: str, *, active_color: str | None = None,
                  evidence: dict | None = None, conn=None) -> None:
        stamp = {"switched": "switched_at", "rolled_back": "rolled_back_at", "contracted": "contracted_at"}.get(state)
        sets = ["state = %s", "updated_at = now()"]
        params: list = [state]
        if stamp:
            sets.append(f"{stamp} = now()")
        if active_color:
            sets.append("active_color = %s")
            params.append(active_color)
        if evidence is not None:
            sets.append("evidence = %s")
            params.append(json.dumps(evidence))
        params.append(release_id)
        (conn or self.conn).execute(self.q(f"UPDATE {{schema}}.releases SET {', '.join(sets)} WHERE id = %s"), params)

    # -- events -----------------------------------------------------------------------------------
    def event(self, release_id: str, command: str, result: str, detail: dict | None = None, *,
              evidence: dict | None = None, forced: bool = False, reason: str | None = None, conn=None) -> None:
        (conn or self.conn).execute(
            self.q("INSERT INTO {schema}.events (release_id, actor, command, result, detail, evidence, forced, reason) "
                   "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"),
            (release_id, actor(), command, result, json.dumps(detail or {}),
             json.dumps(evidence) if evidence is not None else None, forced, reason))

    def events(self, release_id: str) -> list[dict]:
        rows = self.conn.execute(
            self.q("SELECT id, at, actor, command, result, detail, forced, reason FROM {schema}.events "
                   "WHERE release_id = %s ORDER BY id"), (release_id,)).fetchall()
        return [{"id": r[0], "at": r[1].isoformat(), "actor": r[2], "command": r[3], "result": r[4], "detail": r[5],
                 "forced": r[6], "reason": r[7]} for r in rows]

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


def _split(ddl: str) -> list[str]:
    """Split the DDL script at statement ends, keeping the $$ function body whole."""
    parts, current, in_body = [], [], False
    for line in ddl.strip().splitlines():
        current.append(line)
        if line.count("$$") % 2 == 1:
            in_body = not in_body
        if not in_body and line.rstrip().endswith(";"):
            parts.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    return [p for p in parts if p.strip()]
