"""Batched, resumable backfills for migrate revisions.

    from migrator.backfill import backfill

    def upgrade():
        with op.get_context().autocommit_block():      # each batch commits on its own
            backfill(op.get_bind(), "users", "full_name = name", where="full_name IS NULL")

Online, the rows are walked in primary-key order (keyset ranges `key > last AND key <= upper`, so sparse and
non-integer keys work). Each batch is ONE transaction: it checks the coordinator lock (under a release), takes
the next range, updates it and moves the checkpoint row (`{ledger_schema}.checkpoints`), so a batch is either done
and recorded or neither: a killed backfill resumes after the last committed batch and no row is updated twice. It
runs through SQLAlchemy (any PostgreSQL driver, SQLAlchemy 1.4+) or a bare psycopg / psycopg2 connection; a `%` or
`:` in `set_sql` / `where` is literal.

Pacing. With no batch arguments, on an autocommit session (alembic's autocommit_block) and PostgreSQL 11+, the
batches go in groups: one round trip (a DO block) runs batches for up to DEFAULT_GROUP_SECONDS (0.1 s, at most a
quarter of the lock budget) and commits each one with its checkpoint, so row locks are short, each commit's WAL
is small and round trips are few. Batches start at 1000 keys, follow their duration towards
DEFAULT_GROUPED_TARGET (5 ms; halved at most, doubled at most per group) and lock at most DEFAULT_MAX_SHARE
(0.125%) of the table's rows; no pause. Elsewhere (inside a transaction's reach, older servers) each batch is one
statement aimed at DEFAULT_TARGET (30 ms), followed by a pause of DEFAULT_PAUSE_RATIO (0.05) x its duration. A
batch that ends with sessions waiting for its row locks (a group looks after every 4th batch) raises the pause
ratio (doubled, at least 0.25, up to 4) and halves the next batch; each batch or group nobody waited for brings
the ratio back. `batch_size` alone gives fixed batches, one per statement; `target_batch_seconds` the
GitLab-style rule (x1.2 while quick, halve when slow); `pause` and `pause_ratio` set the pause.

The lock budget. While it runs, the session's statement_timeout is the budget (the release's lock_timeout, else the
session's lock_timeout, else 500 ms) and its lock_timeout half of it, so no batch holds its row locks longer than
the budget: a batch that outruns it is rolled back and retried at half the size; a lock timeout (55P03) rolls the
batch back and retries it with jittered backoff (`lock_retries`; under a release the revision's one budget, shared
by its backfills), then raises. The session's settings are restored afterwards.

Offline (`alembic upgrade --sql`, `migrator classify`), `op.get_bind()` is None: one representative
statement `UPDATE <table> SET <set_sql> [WHERE <where>]` is rendered through `op.execute`.

Checkpoints need the ledger (created by `migrator plan`): without a `{ledger_schema}.checkpoints` table
the backfill still runs batch by batch, just not resumable (nothing is created in the user's database).
Under `migrator expand|migrate` the default checkpoint name carries the release and revision, and a
finished checkpoint makes a re-run a no-op; outside a release a finished checkpoint is started over.

`table`, `set_sql` and `where` are SQL text written by the revision's author (not user input);
`key` is a column name (quoted as an identifier).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator

from migrator.backfill_session import Session, quote_ident, sqlstate
from migrator.errors import MigratorError

#: set by migrator.release.applier while it applies a revision: {"release_id", "revision", "settings"}
_RELEASE_CONTEXT: ContextVar[dict | None] = ContextVar("migrator_backfill_release", default=None)


class BackfillError(MigratorError):
    """`reason`: "lost_lock" (the coordinator lost its lock) or "retries" (the lock retries ran out); the applier's
    child reports it as the error's `backfill` extra."""

    exit_code = 1

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason


# The defaults (no batch arguments): batches aimed at DEFAULT_TARGET seconds (from DEFAULT_START keys, between
# DEFAULT_MIN and DEFAULT_MAX), each followed by a pause of DEFAULT_PAUSE_RATIO x its duration.
DEFAULT_TARGET = 0.03
# Grouped (the default where it can): one round trip runs batches for up to DEFAULT_GROUP_SECONDS (and a quarter of
# the lock budget), each committed on its own and aimed at DEFAULT_GROUPED_TARGET, with no pause until a batch
# makes sessions wait: short row locks and small commits for the clients, few round trips for the speed.
# bench/backfill.py, 1M rows: with batches of 0.125% of the table, 1.39-1.42x the rows/s of fixed 1000-key
# statements with 0.86-0.92x their clients' p99. Shorter groups were slower (as CTE statements, 0.1% batches:
# 0.1 s 1.25x, 0.05 s 1.23x, 0.01 s 1.12x); bigger batches raise the p99 (0.15%: 1.02x, single 0.25%: 1.08x).
DEFAULT_GROUP_SECONDS = 0.1
DEFAULT_GROUPED_TARGET = 0.005
DEFAULT_START = 1000
DEFAULT_MIN = 100
DEFAULT_MAX = 100_000
DEFAULT_PAUSE_RATIO = 0.05  # bench/backfill.py: 0.1 bought the clients no latency, and cost 6% of the speed
DEFAULT_MAX_RATIO = 4.0
# A default batch locks at most this share of the table's rows (from the planner's estimate, never under
# DEFAULT_MIN keys): a client writing a random row then meets a locked row in well under 1% of its transactions,
# so the batch's row locks stay out of the clients' p99.
DEFAULT_MAX_SHARE = 0.00125
ESTIMATE_ABOVE = 200_000  # rows (pg_class.reltuples) from which progress uses the estimate, not a count
DEFAULT_LOCK_BUDGET_MS = 500  # outside a release, when the session has no lock_timeout either

# Sessions waiting for this batch's row locks as it ends (after its UPDATE: the list is evaluated last): clients
# it made wait. Only sessions waiting on its transaction id (the 32-bit xid of txid_current_if_assigned), so other
# work's lock waits do not count; one pass over pg_locks.
_WAITERS = ("(SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted "
            "AND transactionid = mod(txid_current_if_assigned(), 4294967296)::text::xid)")

# Does the coordinator's session (pid) still hold its advisory lock (key)? As migrator.release.coordinator._HELD.
_HELD = ("EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = {pid} AND granted "
         "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
         "AND (classid::bigint << 32 | objid::bigint) = {key} AND objsubid = 1)")


# A group of batches is a DO block in this quote; its progress, committed with each batch, is read back from
# this session setting (the block cannot return rows)
_GROUP_QUOTE = "$migrator_backfill$"
_GROUP_STATE = "migrator.backfill_group"
# a group looks for sessions waiting on its row locks after every 4th batch (a pass over pg_locks costs about 5% of
# a 1000-key batch)
_GROUP_WAITERS_EVERY = 4
# a first group failing with one of these (and nothing committed): run one batch per statement instead
_NO_GROUPS = {"42601", "2D000", "0A000", "42702", "42P13", "25001", "42501"}


@dataclass
class _Step:
    """What one round trip committed: its batches (key ranges), the keys walked and rows updated, the last key
    reached, the sessions waiting as its last batch ended, whether the coordinator lock was held, whether the keys
    ran out, and the batches' own time."""
    batches: int = 0
    keys: int = 0
    rows: int = 0
    last: str | None = None
    waiters: int = 0
    held: bool = True
    finished: bool = False
    seconds: float = 0.0


def _literal(value: str | None) -> str:
    """A SQL string literal, whatever standard_conforming_strings says (E'...')."""
    if value is None:
        return "NULL"
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _group_batch(frag: dict[str, str], key_type: str, checkpoint: str | None, held: str | None) -> str:
    """One batch in PL/pgSQL, for a group: the coordinator lock check (`held`, a condition), the next key range
    after _mg_last (_mg_size keys), its UPDATE and the checkpoint move (`checkpoint`: its name), in the variables
    _mg_ok, _mg_hi, _mg_n, _mg_rows and _mg_waiters. The same steps as a single batch's statement, as separate
    statements: no CTEs to materialise, about 8% quicker (bench/backfill.py)."""
    t, k, where = frag["t"], frag["key"], frag["where"]
    lower = f"{k} > CAST(_mg_last AS {key_type})"

    def update(after: str) -> str:  # no str.format here: the author's SQL may hold braces
        return f"UPDATE {t} SET {frag['set']} WHERE {after}{k} <= CAST(_mg_hi AS {key_type}){where};"

    lines = [f"IF NOT ({held}) THEN _mg_ok = false; EXIT; END IF;" if held else "",
             "IF _mg_last IS NULL THEN",
             f"  SELECT max(x)::text, count(*) INTO _mg_hi, _mg_n FROM (SELECT {k} AS x FROM {t} ORDER BY {k} "
             "LIMIT _mg_size) s;",
             "ELSE",
             f"  SELECT max(x)::text, count(*) INTO _mg_hi, _mg_n FROM (SELECT {k} AS x FROM {t} WHERE {lower} "
             f"ORDER BY {k} LIMIT _mg_size) s;",
             "END IF;",
             "_mg_rows = 0;",
             "IF _mg_hi IS NOT NULL THEN",
             "  IF _mg_last IS NULL THEN " + update(""),
             "  ELSE " + update(lower + " AND "),
             "  END IF;",
             "  GET DIAGNOSTICS _mg_rows = ROW_COUNT;",
             "END IF;"]
    if checkpoint is not None:
        lines.append(f"UPDATE {frag['cp']} SET last_key = coalesce(_mg_hi, last_key), rows_done = rows_done + "
                     f"_mg_rows, finished = _mg_hi IS NULL, updated_at = clock_timestamp() "
                     f"WHERE name = {_literal(checkpoint)};")
    lines.append(f"_mg_waiters = CASE WHEN mod(_mg_batches, {_GROUP_WAITERS_EVERY}) = 0 THEN {_WAITERS} ELSE 0 END;")
    return "\n    ".join(line for line in lines if line)


def _group_script(batch: str, last: str | None, size: int, ms: int, token: str) -> str:
    """A DO block running `batch` (_group_batch) until `ms` have passed, a batch made sessions wait, the keys ran
    out or the coordinator lock is gone; it commits each batch with its progress in the session setting
    _GROUP_STATE, under `token`."""
    state = ("PERFORM set_config('" + _GROUP_STATE + "', json_build_object('token', " + _literal(token)
             + ", 'batches', _mg_batches, 'keys', _mg_keys, 'rows', _mg_done, 'last', _mg_last, "
             "'waiters', _mg_waiters, 'held', _mg_ok, 'finished', _mg_ok AND _mg_hi IS NULL, "
             "'seconds', _mg_seconds)::text, false);")
    return f"""DO {_GROUP_QUOTE}
#variable_conflict use_column
DECLARE
  _mg_last text = {_literal(last)};
  _mg_size bigint = {int(size)};
  _mg_until timestamptz = clock_timestamp() + interval '{int(ms)} milliseconds';
  _mg_began timestamptz;
  _mg_ok boolean = true; _mg_hi text; _mg_n bigint = 0; _mg_rows bigint = 0; _mg_waiters bigint = 0;
  _mg_batches int = 0; _mg_keys bigint = 0; _mg_done bigint = 0; _mg_seconds float8 = 0;
BEGIN
  LOOP
    _mg_began = clock_timestamp();
    {batch}
    IF _mg_hi IS NOT NULL THEN
      _mg_batches = _mg_batches + 1; _mg_keys = _mg_keys + _mg_n; _mg_done = _mg_done + _mg_rows;
      _mg_last = _mg_hi;
    END IF;
    _mg_seconds = _mg_seconds + extract(epoch FROM clock_timestamp() - _mg_began);
    {state}
    COMMIT;
    EXIT WHEN _mg_hi IS NULL OR _mg_waiters > 0 OR clock_timestamp() >= _mg_until;
  END LOOP;
  {state}
END {_GROUP_QUOTE}"""


@dataclass
class BackfillResult:
    name: str | None
    rows: int = 0                 # rows updated by this call
    keys: int = 0                 # keys walked by this call
    batches: int = 0
    seconds: float = 0.0
    resumed_from: str | None = None   # last key of the checkpoint it started after
    skipped: bool = False         # a finished checkpoint: nothing to do
    offline: bool = False
    checkpointed: bool = False
    batch_sizes: list[int] = field(default_factory=list)   # keys asked for per batch (adaptive: it changes)
    round_trips: int = 0          # statements that ran batches (grouped: several batches each)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@contextmanager
def release_context(release_id: str | None, revision: str | None, settings: Any = None, stream=None, *,
                    retry_budget: int | None = None, lock: dict | None = None) -> Iterator[None]:
    """Tell backfills run inside this block which release / revision they belong to, the release settings
    (lock_retries, backoff, ledger_schema, lock_timeout_ms), where progress goes, the lock retries left for the
    revision (shared by all its backfills) and the coordinator lock to check before every batch ({"pid", "key"})
    (used by the applier's child)."""
    token = _RELEASE_CONTEXT.set({"release_id": release_id, "revision": revision, "settings": settings,
                                  "stream": stream, "lock": lock,
                                  "retry_budget": None if retry_budget is None else {"left": int(retry_budget)}})
    try:
        yield
    finally:
        _RELEASE_CONTEXT.reset(token)


def _offline_mode() -> bool:
    try:
        from alembic import context

        return bool(context.is_offline_mode())
    except Exception:  # no alembic environment is running
        return False


def _render_offline(table: str, set_sql: str, where: str | None) -> None:
    from alembic import op

    op.execute(f"UPDATE {table} SET {set_sql}" + (f" WHERE {where}" if where else ""))


def default_name(table: str, set_sql: str, key: str, where: str | None, release_id: str | None = None,
                 revision: str | None = None) -> str:
    digest = hashlib.sha1("\x1f".join((table, key, set_sql, where or "")).encode()).hexdigest()[:12]
    scope = f"{release_id}:{revision}:" if release_id else ""
    return f"backfill:{scope}{table}:{digest}"


def _is_lock_timeout(exc: BaseException) -> bool:
    return getattr(exc, "sqlstate", None) == "55P03"


class _Progress:
    """rows, rows/s and ETA on stderr: a rich progress bar on a terminal, else a plain line every few seconds."""

    def __init__(self, label: str, total: int, enabled: bool, stream=None):
        self.label, self.total, self.enabled = label, max(total, 0), enabled
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.last_line = 0.0
        self.keys = self.rows = 0
        self._rich = None
        if enabled and getattr(self.stream, "isatty", lambda: False)():
            try:
                from rich.console import Console
                from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                           TimeRemainingColumn)

                self._rich = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn(),
                                      console=Console(file=self.stream), transient=False)
                self._task = self._rich.add_task(label, total=self.total or None, rate="")
                self._rich.start()
            except Exception:  # no usable terminal: plain lines
                self._rich = None

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.rows / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if not self.total or not self.keys or elapsed <= 0:
            return None
        return max(0.0, (self.total - self.keys) * elapsed / self.keys)

    def update(self, keys: int, rows: int) -> None:
        self.keys += keys
        self.rows += rows
        if not self.enabled:
            return
        if self._rich is not None:
            self._rich.update(self._task, completed=min(self.keys, self.total) if self.total else self.keys,
                              rate=f"{self.rows:,} rows, {self.rate():,.0f} rows/s")
            return
        now = time.monotonic()
        if now - self.last_line >= 2.0:
            self.last_line = now
            self._line()

    def _line(self, final: bool = False, stopped: bool = False) -> None:
        share = f" ({100 * min(self.keys, self.total) / self.total:.0f}%)" if self.total else ""
        eta = self.eta()
        tail = ("stopped (re-run to resume from the checkpoint)" if stopped else "done") if final else (
            f"ETA {eta:,.0f}s" if eta is not None else "ETA ?")
        print(f"{self.label}: {min(self.keys, self.total) if self.total else self.keys:,}/{self.total:,} keys{share}, "
              f"{self.rows:,} rows updated, {self.rate():,.0f} rows/s, {tail}", file=self.stream, flush=True)

    def note(self, text: str) -> None:
        if self.enabled:
            print(f"{self.label}: {text}", file=self.stream, flush=True)

    def close(self, completed: bool = True) -> None:
        if self._rich is not None:
            self._rich.stop()
            if not completed:
                self.note("stopped (re-run to resume from the checkpoint)")
        elif self.enabled:
            self._line(final=True, stopped=not completed)


def backfill(conn, table: str, set_sql: str, *, key: str = "id", where: str | None = None,
             batch_size: int | None = None, pause: float = 0.0, name: str | None = None,
             ledger_schema: str | None = None, progress: bool = True,
             target_batch_seconds: float | None = None, min_batch_size: int | None = None,
             max_batch_size: int | None = None, pause_ratio: float | None = None, lock_retries: int | None = None,
             stream=None) -> BackfillResult:
    """`UPDATE table SET set_sql WHERE (where)` in committed batches of keys; see the module doc.

    Returns a BackfillResult (rows updated, batches, seconds, where it resumed from)."""
    if batch_size is not None and batch_size < 1:
        raise BackfillError(f"backfill {table}: batch_size must be >= 1, got {batch_size}")
    ctx = _RELEASE_CONTEXT.get() or {}
    settings = ctx.get("settings")
    if ledger_schema is None:
        ledger_schema = getattr(settings, "ledger_schema", None) or "migrator"
    if conn is None or _offline_mode():
        if conn is None and not _offline_mode():
            raise BackfillError(f"backfill {table}: no connection (pass op.get_bind())")
        _render_offline(table, set_sql, where)
        return BackfillResult(name, offline=True)

    try:
        db = Session(conn)
    except TypeError as exc:
        raise BackfillError(f"backfill {table}: {exc}") from None
    if not db.idle():
        raise BackfillError(f"backfill {table}: commits each batch, so it must run outside a transaction (in an "
                            "alembic revision: inside `with op.get_context().autocommit_block():`)")
    release_id, revision = ctx.get("release_id"), ctx.get("revision")
    explicit_name = name is not None
    name = name or default_name(table, set_sql, key, where, release_id, revision)
    budget = ctx.get("retry_budget")  # one budget per revision, shared by its backfills (D12)
    retries = lock_retries if lock_retries is not None else getattr(settings, "lock_retries", 10)
    if budget is not None:
        retries = min(retries, budget["left"])
    stream = stream or ctx.get("stream") or sys.stderr
    holder = ctx.get("lock")

    def execute(statement, params=None):
        """One statement in a transaction of its own: its first row."""
        if db.autocommit:
            return db.one(statement, params)
        db.begin()
        try:
            row = db.one(statement, params)
        except BaseException:
            db.rollback()
            raise
        db.commit()
        return row

    def run(template, params=None, **fragments):
        return execute(db.compose(template, **fragments), params)

    cp_table = f"{quote_ident(ledger_schema)}.checkpoints"
    regclass, key_type, checkpoints, session_lock_ms, server_version = run(
        "SELECT to_regclass(:t)::text, (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass(:t) AND a.attname = :key AND a.attnum > 0 AND NOT a.attisdropped), "
        "to_regclass(:cp)::text, (SELECT setting::int FROM pg_settings WHERE name = 'lock_timeout'), "
        "current_setting('server_version_num')::int",
        {"t": table, "key": key, "cp": cp_table})
    if regclass is None:
        raise BackfillError(f"backfill: table {table} not found")
    if key_type is None:
        raise BackfillError(f"backfill {table}: no column {key!r} to walk the rows by (pass key=...)")
    if checkpoints is None and release_id:  # under a release a backfill is always resumable: never silently not
        raise BackfillError(f"backfill {table}: release {release_id} runs it, but there is no checkpoint table "
                            f"{ledger_schema}.checkpoints (ledger_schema {ledger_schema!r}): run `migrator plan` first")
    # a batch holds its row locks for no longer than the lock budget: lock_timeout and statement_timeout of each
    # batch (SET LOCAL); the release's lock_timeout, else the session's, else the release default
    budget_ms = getattr(settings, "lock_timeout_ms", None)
    if budget_ms is None:
        budget_ms = session_lock_ms or DEFAULT_LOCK_BUDGET_MS
    budget_ms = int(budget_ms)

    result = BackfillResult(name, checkpointed=checkpoints is not None)
    last: str | None = None
    rows_before = 0  # the checkpoint's rows_done when this call started
    if checkpoints is not None:
        db.begin()
        try:
            last, finished, rows_before = db.one(db.compose(
                "WITH ins AS (INSERT INTO {cp} (name, release_id) VALUES (:name, :rid) ON CONFLICT (name) DO NOTHING "
                "RETURNING last_key, finished, rows_done) SELECT last_key, finished, rows_done FROM ins UNION ALL "
                "SELECT last_key, finished, rows_done FROM {cp} WHERE name = :name", cp=cp_table),
                {"name": name, "rid": release_id})
            if finished and not (release_id or explicit_name):
                db.one(db.compose("UPDATE {cp} SET last_key = NULL, rows_done = 0, finished = false, "
                                  "updated_at = clock_timestamp() WHERE name = :name", cp=cp_table), {"name": name})
                last, finished, rows_before = None, False, 0
            db.commit()
        except BaseException:
            db.rollback()
            raise
        if finished:
            result.skipped = True
            if progress:
                print(f"backfill {regclass}: already finished (checkpoint {name}); nothing to do", file=stream,
                      flush=True)
            return result
        result.resumed_from = last

    lower = f"{{key}} > CAST(CAST(:last AS text) AS {key_type})"
    frag = {"t": table, "key": quote_ident(key), "set": set_sql, "where": f" AND ({where})" if where else "",
            "cp": cp_table}
    # the progress bar's total: counted on a small table; on a big one the planner's estimate (a count would
    # read the whole table before the first batch)
    estimate = run("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)", {"t": table})[0]
    if estimate is not None and estimate >= ESTIMATE_ABOVE:
        total = int(estimate)
    elif last is None:
        total = int(run("SELECT count(*) FROM {t}", t=table)[0] or 0)
    else:
        total = int(run("SELECT count(*) FROM {t} WHERE " + lower, {"last": last}, t=table, key=frag["key"])[0] or 0)
    bar = _Progress(f"backfill {regclass}", total, progress, stream)
    if last is not None:
        bar.note(f"resuming after {key} {last} (checkpoint {name})")
    elif checkpoints is None:
        bar.note(f"no checkpoint table {ledger_schema}.checkpoints: running without a checkpoint")

    # one statement per batch, i.e. one transaction: the coordinator lock check, the next key range, its UPDATE
    # and the checkpoint move; it returns whether the lock is held, the range's upper key (NULL: nothing left),
    # the keys walked and the rows updated
    ok = "(SELECT ok FROM g)"
    move = ("), c AS (UPDATE {cp} SET last_key = coalesce((SELECT hi FROM r), last_key), "
            "rows_done = rows_done + (SELECT count(*) FROM u), finished = (SELECT hi FROM r) IS NULL, "
            f"updated_at = clock_timestamp() WHERE name = :name AND {ok}") if checkpoints is not None else ""
    held = _HELD.format(pid=":pid", key=":key") if holder else "true"
    batch_sql = {
        first: db.compose(
            f"WITH g AS (SELECT {held} AS ok), "
            f"r AS (SELECT max(k)::text AS hi, count(*) AS n FROM (SELECT {{key}} AS k FROM {{t}} WHERE {ok}"
            + ("" if first else " AND " + lower) + " ORDER BY {key} LIMIT :size) s), "
            f"u AS (UPDATE {{t}} SET {{set}} WHERE {'' if first else lower + ' AND '}"
            f"{{key}} <= CAST((SELECT hi FROM r) AS {key_type}){{where}} RETURNING 1" + move
            + f") SELECT {ok}, hi, n, (SELECT count(*) FROM u), {_WAITERS} FROM r", **frag)
        for first in (True, False)}
    params: dict[str, Any] = {"name": name}
    if holder:
        params.update(pid=int(holder["pid"]), key=int(holder["key"]))

    # while the batches run (restored after): a batch holds its row locks no longer than the lock budget
    # (statement_timeout; 57014: halved and retried) and gives up a lock wait at half of it (55P03: retried)
    knobs = {"statement_timeout": str(budget_ms), "lock_timeout": str(budget_ms and max(1, budget_ms // 2))}
    saved = dict(zip(knobs, run("SELECT " + ", ".join(f"current_setting('{k}')" for k in knobs))))
    run("SELECT " + ", ".join(f"set_config('{k}', :{k}, false)" for k in knobs), knobs)

    if max_batch_size is None and batch_size is None and target_batch_seconds is None and estimate and estimate > 0:
        max_batch_size = max(DEFAULT_MIN, min(DEFAULT_MAX, int(estimate * DEFAULT_MAX_SHARE)))
    # the default pacing sends its batches in groups (one DO block that commits each batch) where it can: an
    # autocommit session (a DO block can commit only outside a transaction), PostgreSQL 11+, a block quote that
    # the author's SQL does not contain
    grouped = (batch_size is None and target_batch_seconds is None and db.autocommit and server_version >= 110000
               and not any(_GROUP_QUOTE in value for value in frag.values()))

    def new_pacer() -> _Pacer:
        return _Pacer(batch_size, target_batch_seconds, min_batch_size, max_batch_size, pause, pause_ratio,
                      grouped=grouped)

    pacer = new_pacer()
    group_ms = max(1, min(int(DEFAULT_GROUP_SECONDS * 1000), budget_ms // 4 if budget_ms else 10 ** 6))
    group_batch = _group_batch(frag, key_type, name if checkpoints is not None else None,
                               holder and _HELD.format(pid=int(holder["pid"]), key=int(holder["key"])))
    group_state_sql = db.compose("SELECT current_setting(:setting, true)")
    started = time.monotonic()
    completed = False

    def one_batch() -> _Step:
        params["size"] = pacer.size
        if last is not None:
            params["last"] = last
        began = time.monotonic()
        held, upper, keys, rows, waiters = execute(batch_sql[last is None], params)
        return _Step(batches=int(upper is not None), keys=keys, rows=rows, last=last if upper is None else upper,
                     waiters=waiters, held=held, finished=upper is None, seconds=time.monotonic() - began)

    def group_state(token: str) -> _Step | None:
        """What the group's committed batches did (None: none committed)."""
        text = db.one(group_state_sql, {"setting": _GROUP_STATE})[0]
        state = json.loads(text) if text else {}
        if state.get("token") != token:
            return None
        return _Step(batches=state["batches"], keys=state["keys"], rows=state["rows"], last=state["last"],
                     waiters=state["waiters"], held=state["held"], finished=state["finished"],
                     seconds=state["seconds"])

    def progress_from_checkpoint() -> _Step:
        """What the group did, from the checkpoint row, when the session setting did not bring it back."""
        if checkpoints is None:
            raise BackfillError(f"backfill {regclass}: the progress of its batches did not come back on this "
                                "connection (a pooler in transaction mode?) and there is no checkpoint table to read "
                                "it from; run `migrator plan` first, or pass batch_size=N (one batch per statement)")
        cp_last, cp_rows, cp_finished = run("SELECT last_key, rows_done, finished FROM {cp} WHERE name = :name",
                                            {"name": name}, cp=cp_table)
        return _Step(rows=cp_rows - rows_before - result.rows, last=cp_last, finished=cp_finished)

    def take(step: _Step) -> None:
        nonlocal last
        last = step.last
        result.rows += step.rows
        result.keys += step.keys
        result.batches += step.batches
        result.batch_sizes.extend([pacer.size] * step.batches)
        bar.update(step.keys, step.rows)

    try:
        while True:
            attempt = 0
            while True:
                began = time.monotonic()
                token = uuid.uuid4().hex
                try:
                    if grouped:
                        db.script(_group_script(group_batch, last, pacer.size, group_ms, token))
                        step = group_state(token)
                        if step is None:  # its progress did not come back: another server session answered
                            step = progress_from_checkpoint()
                            grouped = False  # (a pooler in transaction mode): one batch per statement from here
                            pacer = new_pacer()
                    else:
                        step = one_batch()
                except Exception as exc:
                    state = sqlstate(exc)
                    partial = group_state(token) if grouped else None
                    if partial is not None:  # the group's batches before the failing one are committed
                        take(partial)
                    elif grouped and state in _NO_GROUPS and not result.batches:
                        grouped = False  # a server or driver that cannot run the group: one batch per statement
                        pacer = new_pacer()
                        continue
                    if state == "57014" and "statement timeout" in str(exc):
                        if pacer.size <= 1:
                            raise BackfillError(f"backfill {regclass}: one key's batch ran longer than the lock "
                                                f"budget (statement_timeout {budget_ms}ms)") from exc
                        pacer.too_slow()  # the batch outran the lock budget: halve it and try again
                        bar.note(f"a batch ran into statement_timeout {budget_ms}ms: retrying with "
                                 f"{pacer.size} keys")
                        continue
                    if state != "55P03":
                        raise
                    attempt += 1
                    if budget is not None:
                        budget["left"] = max(0, budget["left"] - 1)
                    if attempt > retries:
                        raise BackfillError(
                            f"backfill {regclass}: a batch could not get its row locks within lock_timeout after "
                            f"{attempt} attempts; the checkpoint keeps the committed batches: re-run to resume",
                            reason="retries") from None
                    _sleep_backoff(settings, attempt)
                    continue
                result.round_trips += 1
                take(step)
                if not step.held:  # D1: the coordinator lost its lock; this batch touched nothing
                    holder_pid = holder["pid"] if holder else "?"  # `held` is false only when there is a holder
                    raise BackfillError(
                        f"backfill {regclass}: lost the coordinator lock (its session, pid {holder_pid}, no "
                        f"longer holds it); stopped before the batch after {key} {last}", reason="lost_lock")
                break
            if step.finished:
                break
            per_batch = step.seconds / max(1, step.batches)
            wait = pacer.after(per_batch, step.waiters, busy=time.monotonic() - began)
            if wait > 0:
                time.sleep(wait)
        completed = True
    finally:
        result.seconds = time.monotonic() - started
        bar.close(completed)
        try:
            run("SELECT " + ", ".join(f"set_config('{k}', :{k}, false)" for k in saved), saved)
        except Exception:  # noqa: BLE001 - a broken connection has no settings left to restore
            pass
    return result


class _Pacer:
    """Batch size and the pause after each batch. Fixed (`batch_size` alone), GitLab-style adaptive (an explicit
    `target_batch_seconds`: x1.2 while quick, halve when slow), or the default: batches aimed at DEFAULT_TARGET
    seconds, each followed by a pause of `ratio` x its duration (the duty cycle). The ratio starts at
    DEFAULT_PAUSE_RATIO; a batch that made clients wait for its row locks doubles it (at least 0.25, up to
    DEFAULT_MAX_RATIO) and halves the batch; each batch nobody waited for brings it back towards the start."""

    def __init__(self, size, target, low, high, pause, ratio, grouped=False):
        self.default = size is None and target is None
        if size is None:
            size = DEFAULT_START
        if self.default:
            target = DEFAULT_GROUPED_TARGET if grouped else DEFAULT_TARGET
            low, high = low or DEFAULT_MIN, high or DEFAULT_MAX
            size = min(size, high)  # a small table's share cap is below the start
            ratio = (0.0 if grouped else DEFAULT_PAUSE_RATIO) if ratio is None else ratio
        self.size, self.target = size, target
        self.low = max(1, low or max(1, size // 16))
        self.high = max(size, high or size * 16)
        self.pause, self.ratio = pause, ratio or 0.0
        self.base = self.ratio

    def too_slow(self) -> None:
        self.size = max(1, self.size // 2)
        self.low = min(self.low, self.size)

    def after(self, duration: float, waiters: int = 0, busy: float | None = None) -> float:
        """Adapt to the batch that took `duration` seconds and made `waiters` sessions wait; return the pause
        (proportional to `busy`, the round trip's time, when it ran a group of batches)."""
        if self.default:
            if waiters:
                self.ratio = min(DEFAULT_MAX_RATIO, max(self.ratio * 2, 0.25))
                self.size = max(self.low, self.size // 2)
            else:
                self.ratio = max(self.base, self.ratio * 0.8)
                factor = min(2.0, max(0.5, self.target / max(duration, 1e-4)))
                self.size = min(self.high, max(self.low, int(self.size * factor)))
        elif self.target:
            if duration > 1.5 * self.target:
                self.size = max(self.low, self.size // 2)
            elif duration < 0.8 * self.target:
                self.size = min(self.high, max(self.size + 1, int(self.size * 1.2)))
        return self.pause + self.ratio * (duration if busy is None else busy)


def _sleep_backoff(settings, attempt: int) -> None:
    if settings is not None and hasattr(settings, "backoff"):
        time.sleep(settings.backoff(attempt))
        return
    import random

    time.sleep(random.uniform(0.0, min(10.0, 0.2 * 2 ** (attempt - 1))))
