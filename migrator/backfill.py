"""Batched, resumable backfills for migrate revisions.

    from migrator.backfill import backfill

    def upgrade():
        with op.get_context().autocommit_block():      # each batch commits on its own
            backfill(op.get_bind(), "users", "full_name = name", where="full_name IS NULL", batch_size=10_000)

Online, the rows are walked in primary-key order, `batch_size` keys at a time (keyset ranges
`key > last AND key <= upper`, so sparse keys and non-integer keys work); each batch is one short
transaction that also moves the checkpoint row (`{ledger_schema}.checkpoints`), so a batch is either done
and recorded or neither: a killed backfill resumes after the last committed batch and no row is updated
twice. Between batches it sleeps `pause` seconds (plus `pause_ratio` x the batch's duration), and with
`target_batch_seconds` the batch size follows the observed batch duration (grow while batches are quick,
halve when one is slow), as GitLab's batched background migrations do.

A lock timeout (SQLSTATE 55P03) on a batch rolls that batch back and retries it with jittered backoff
(`lock_retries` times), then raises.

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
import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator

from migrator.errors import MigratorError

#: set by migrator.release.applier while it applies a revision: {"release_id", "revision", "settings"}
_RELEASE_CONTEXT: ContextVar[dict | None] = ContextVar("migrator_backfill_release", default=None)


class BackfillError(MigratorError):
    exit_code = 1


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

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@contextmanager
def release_context(release_id: str | None, revision: str | None, settings: Any = None, stream=None
                    ) -> Iterator[None]:
    """Tell backfills run inside this block which release / revision they belong to, the release settings
    (lock_retries, backoff, ledger_schema) and where progress goes (used by the applier)."""
    token = _RELEASE_CONTEXT.set({"release_id": release_id, "revision": revision, "settings": settings,
                                  "stream": stream})
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


def _driver_connection(conn):
    """The psycopg connection behind `conn` (psycopg Connection, SQLAlchemy Connection or Engine-less bind)."""
    import psycopg

    if isinstance(conn, psycopg.Connection):
        return conn
    raw = getattr(conn, "connection", None)  # sqlalchemy Connection -> PoolProxiedConnection
    driver = getattr(raw, "driver_connection", None)
    if isinstance(driver, psycopg.Connection):
        return driver
    raise BackfillError(f"backfill needs a psycopg or SQLAlchemy (postgresql+psycopg) connection, got "
                        f"{type(conn).__name__}")


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
             batch_size: int = 1000, pause: float = 0.0, name: str | None = None,
             ledger_schema: str | None = None, progress: bool = True,
             target_batch_seconds: float | None = None, min_batch_size: int | None = None,
             max_batch_size: int | None = None, pause_ratio: float = 0.0, lock_retries: int | None = None,
             stream=None) -> BackfillResult:
    """`UPDATE table SET set_sql WHERE (where)` in committed batches of `batch_size` keys; see the module doc.

    Returns a BackfillResult (rows updated, batches, seconds, where it resumed from)."""
    if batch_size < 1:
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

    from psycopg import errors as pg_errors, pq, sql

    pg = _driver_connection(conn)
    if pg.info.transaction_status != pq.TransactionStatus.IDLE:
        raise BackfillError(f"backfill {table}: commits each batch, so it must run outside a transaction (in an "
                            "alembic revision: inside `with op.get_context().autocommit_block():`)")
    release_id, revision = ctx.get("release_id"), ctx.get("revision")
    explicit_name = name is not None
    name = name or default_name(table, set_sql, key, where, release_id, revision)
    retries = lock_retries if lock_retries is not None else getattr(settings, "lock_retries", 10)
    stream = stream or ctx.get("stream") or sys.stderr

    def run(query, params=()):
        return pg.execute(query, params)

    with pg.transaction():
        regclass = run("SELECT to_regclass(%s)::text", (table,)).fetchone()[0]
        if regclass is None:
            raise BackfillError(f"backfill: table {table} not found")
        row = run("SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                  "WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped",
                  (table, key)).fetchone()
        if row is None:
            raise BackfillError(f"backfill {table}: no column {key!r} to walk the rows by (pass key=...)")
        key_type = row[0]
        checkpoints = run("SELECT to_regclass(quote_ident(%s) || '.checkpoints')", (ledger_schema,)).fetchone()[0]
    if checkpoints is None and release_id:  # under a release a backfill is always resumable: never silently not
        raise BackfillError(f"backfill {table}: release {release_id} runs it, but there is no checkpoint table "
                            f"{ledger_schema}.checkpoints (ledger_schema {ledger_schema!r}): run `migrator plan` first")
    key_id = sql.Identifier(key)
    cast = sql.SQL(key_type)
    table_sql = sql.SQL(table)
    cp_table = sql.SQL("{}.checkpoints").format(sql.Identifier(ledger_schema))

    result = BackfillResult(name, checkpointed=checkpoints is not None)
    last: str | None = None
    if checkpoints is not None:
        with pg.transaction():
            run(sql.SQL("INSERT INTO {} (name, release_id) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING")
                .format(cp_table), (name, release_id))
            last, finished = run(sql.SQL("SELECT last_key, finished FROM {} WHERE name = %s").format(cp_table),
                                 (name,)).fetchone()
            if finished and not (release_id or explicit_name):
                run(sql.SQL("UPDATE {} SET last_key = NULL, rows_done = 0, finished = false, "
                            "updated_at = clock_timestamp() WHERE name = %s").format(cp_table), (name,))
                last, finished = None, False
        if finished:
            result.skipped = True
            if progress:
                print(f"backfill {regclass}: already finished (checkpoint {name}); nothing to do", file=stream,
                      flush=True)
            return result
        result.resumed_from = last

    lower = sql.SQL("{} > %s::{}").format(key_id, cast)
    if last is None:
        total = run(sql.SQL("SELECT count(*) FROM {}").format(table_sql)).fetchone()[0]
    else:
        total = run(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(table_sql, lower), (last,)).fetchone()[0]
    bar = _Progress(f"backfill {regclass}", total, progress, stream)
    if last is not None:
        bar.note(f"resuming after {key} {last} (checkpoint {name})")
    elif checkpoints is None:
        bar.note(f"no checkpoint table {ledger_schema}.checkpoints: running without a checkpoint")

    next_upper = sql.SQL("SELECT max(k)::text, count(*) FROM (SELECT {key} AS k FROM {t}{lower} ORDER BY {key} "
                         "LIMIT %s) s")
    update = sql.SQL("UPDATE {t} SET {set} WHERE {key} <= %s::{cast}{lower}{where}").format(
        t=table_sql, set=sql.SQL(set_sql), key=key_id, cast=cast,
        lower=sql.SQL(""), where=sql.SQL(f" AND ({where})") if where else sql.SQL(""))
    update_after = sql.SQL("UPDATE {t} SET {set} WHERE {key} <= %s::{cast} AND {lower}{where}").format(
        t=table_sql, set=sql.SQL(set_sql), key=key_id, cast=cast, lower=lower,
        where=sql.SQL(f" AND ({where})") if where else sql.SQL(""))
    move = sql.SQL("UPDATE {} SET last_key = %s, rows_done = rows_done + %s, updated_at = clock_timestamp() "
                   "WHERE name = %s").format(cp_table)
    finish = sql.SQL("UPDATE {} SET finished = true, updated_at = clock_timestamp() WHERE name = %s").format(cp_table)

    size = batch_size
    low_cap = max(1, min_batch_size or max(1, batch_size // 16))
    high_cap = max(size, max_batch_size or batch_size * 16)
    started = time.monotonic()
    completed = False
    try:
        while True:
            attempt = 0
            while True:
                began = time.monotonic()
                try:
                    with pg.transaction():
                        if last is None:
                            upper, keys = run(next_upper.format(key=key_id, t=table_sql, lower=sql.SQL("")),
                                              (size,)).fetchone()
                        else:
                            upper, keys = run(next_upper.format(key=key_id, t=table_sql,
                                                                lower=sql.SQL(" WHERE ") + lower),
                                              (last, size)).fetchone()
                        if upper is None:
                            if checkpoints is not None:
                                run(finish, (name,))
                            rows = None
                        else:
                            cur = (run(update, (upper,)) if last is None else run(update_after, (upper, last)))
                            rows = max(cur.rowcount, 0)
                            if checkpoints is not None:
                                run(move, (upper, rows, name))
                    break
                except pg_errors.LockNotAvailable:
                    attempt += 1
                    if attempt > retries:
                        raise BackfillError(
                            f"backfill {regclass}: a batch could not get its row locks within lock_timeout after "
                            f"{attempt} attempts; the checkpoint keeps the committed batches: re-run to resume"
                        ) from None
                    _sleep_backoff(settings, attempt)
            if upper is None:
                break
            duration = time.monotonic() - began
            last = upper
            result.rows += rows
            result.keys += keys
            result.batches += 1
            result.batch_sizes.append(size)
            bar.update(keys, rows)
            if target_batch_seconds:
                if duration > 1.5 * target_batch_seconds:
                    size = max(low_cap, size // 2)
                elif duration < 0.8 * target_batch_seconds:
                    size = min(high_cap, max(size + 1, int(size * 1.2)))
            wait = pause + pause_ratio * duration
            if wait > 0:
                time.sleep(wait)
        completed = True
    finally:
        result.seconds = time.monotonic() - started
        bar.close(completed)
    return result


def _sleep_backoff(settings, attempt: int) -> None:
    if settings is not None and hasattr(settings, "backoff"):
        time.sleep(settings.backoff(attempt))
        return
    import random

    time.sleep(random.uniform(0.0, min(10.0, 0.2 * 2 ** (attempt - 1))))
