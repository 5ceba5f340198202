"""Apply a release phase's alembic revisions to the live database: online, in-process, one transaction each.

    applied = apply_revisions(db_url, project_dir, "alembic.ini", release, "expand", ["0003"], "migrator", settings)

The user's env.py is NOT run: alembic's EnvironmentContext / MigrationContext is configured on our own
SQLAlchemy (postgresql+psycopg) connection with `transaction_per_migration=True`, and `on_version_apply`
writes the ledger's `applied` row in the revision's own transaction (the same one that moves
alembic_version), so a revision is applied and recorded, or neither.

- alembic_version is the truth: revisions it already contains (as heads or their ancestors) are skipped;
  one missing from the ledger is recorded there (it was applied outside migrator); one the ledger lists
  but alembic_version does not is an error (the database was downgraded behind the release's back).
- Every session first sets lock_timeout and statement_timeout (and client_connection_check_interval, so
  the server stops the statements of a killed migrator within a second); they are set again before each
  revision because a revision may change them.
- A lock timeout (SQLSTATE 55P03) rolls the revision's transaction back; it is retried after a full-jitter
  exponential backoff, `lock_retries` times, then LockRetriesExhausted (exit 1) names the revision and
  the statement. An application query queued behind our lock request therefore waits at most about
  lock_timeout per attempt.
- Revisions with statements that cannot run in a transaction (autocommit_block + CREATE INDEX
  CONCURRENTLY / REINDEX CONCURRENTLY): the index names come from the revision's offline SQL (rendered
  here, also without env.py). Before each attempt, an INVALID index of those names (a CIC that was
  killed or failed) is dropped with DROP INDEX CONCURRENTLY, and so is a valid one that an earlier,
  interrupted attempt of the same revision built (a marker row in the ledger's checkpoints table
  remembers which of those indexes existed before the first attempt), so the re-run rebuilds them.
- Backfills (migrator.backfill) inside a revision get the release and revision as their checkpoint
  scope, so a killed migrate resumes after the last committed batch.

Statements a revision commits before an autocommit_block other than index builds are not undone:
such a revision must be re-runnable (IF NOT EXISTS, ...) to survive a crash in its middle.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from migrator.compat.apply import _installed_roots, _within  # one definition of "project code"
from migrator.errors import MigratorError
from migrator.release.errors import ReleaseError
from migrator.release.settings import ReleaseSettings

CHECK_INTERVAL_MS = 1000  # client_connection_check_interval: a killed client's statement stops within ~1 s
ORPHAN_WAIT_S = 15.0


class ApplyFailed(MigratorError):
    """A revision failed (exit 1); earlier revisions stay applied and recorded, a re-run resumes."""

    exit_code = 1

    def __init__(self, message: str, revision: str | None = None, statement: str | None = None):
        super().__init__(message)
        self.revision, self.statement = revision, statement


class LockRetriesExhausted(ApplyFailed):
    pass


# --- URLs ------------------------------------------------------------------------------------------------


def sqlalchemy_url(db_url: str) -> str:
    """The URL with the psycopg (3) driver, as SQLAlchemy wants it."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ReleaseError(f"not a PostgreSQL URL: {safe_url(db_url)}")
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(db_url: str) -> str:
    """The URL as libpq / psycopg.connect wants it (no "+driver" in the scheme)."""
    from sqlalchemy.engine import make_url

    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


def safe_url(db_url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "<database url>"


def _scrub(text: str, db_url: str) -> str:
    from migrator.compat.apply import scrub

    for url in {db_url, libpq_url(db_url), sqlalchemy_url(db_url)}:
        text = scrub(text, url)
    return text


# --- errors ----------------------------------------------------------------------------------------------


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        orig = getattr(exc, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            yield orig
            seen.add(id(orig))
        exc = exc.__cause__ or exc.__context__


def _sqlstate(exc: BaseException) -> str | None:
    for e in _chain(exc):
        state = getattr(e, "sqlstate", None)
        if state:
            return state
    return None


def is_lock_timeout(exc: BaseException) -> bool:
    return _sqlstate(exc) == "55P03"


def _is_disconnect(exc: BaseException, sa_conn=None, pg_conn=None) -> bool:
    import psycopg

    for e in _chain(exc):
        if getattr(e, "connection_invalidated", False):
            return True
        if isinstance(e, psycopg.OperationalError) and getattr(e, "sqlstate", None) in (None, "57P01", "57P02",
                                                                                          "57P03", "08006", "08003"):
            return True
    if pg_conn is not None and pg_conn.closed:
        return True
    return False


def _first_line(exc: BaseException) -> str:
    for e in _chain(exc):
        if getattr(e, "sqlstate", None):
            exc = e
            break
    text = str(exc).strip()
    line = (text.splitlines() or [""])[0].strip()
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def _statement(exc: BaseException) -> str | None:
    for e in _chain(exc):
        statement = getattr(e, "statement", None)
        if isinstance(statement, str):
            statement = " ".join(statement.split())
            return statement if len(statement) <= 300 else statement[:297] + "..."
    return None


# --- CONCURRENTLY index builds of a revision -------------------------------------------------------------


@dataclass(frozen=True)
class ConcurrentIndex:
    """An index that a revision builds (or rebuilds) outside a transaction."""

    name: str | None            # CREATE INDEX CONCURRENTLY <name> / REINDEX INDEX CONCURRENTLY <name>
    schema: str | None
    table: str | None           # the table (schema-qualified when written so), as SQL text
    reindex: bool = False       # REINDEX ... CONCURRENTLY: leftovers are <name>_ccnew / _ccold


def _idents(stmt) -> list[tuple[str, str]]:
    """(upper word, name as PostgreSQL folds it) per token; REINDEX's folded tail is tokenized again."""
    from sqlglot.tokens import TokenType

    from migrator.sql.split import dialect

    tokens = list(stmt.tokens)
    if len(tokens) == 2 and tokens[0].text.upper() == "REINDEX" and tokens[1].token_type == TokenType.STRING:
        try:
            tokens = tokens[:1] + list(dialect().tokenize(tokens[1].text))
        except Exception:
            return []
    out = []
    for t in tokens:
        quoted = t.token_type == TokenType.IDENTIFIER
        out.append((t.text.upper(), t.text if quoted else t.text.lower()))
    return out


def _dotted(items: list[tuple[str, str]], i: int) -> tuple[list[str], int]:
    parts = []
    if i < len(items):
        parts.append(items[i][1])
        i += 1
        while i + 1 < len(items) and items[i][0] == ".":
            parts.append(items[i + 1][1])
            i += 2
    return parts, i


def concurrent_indexes(sql_text: str) -> list[ConcurrentIndex]:
    """The indexes that CREATE [UNIQUE] INDEX CONCURRENTLY / REINDEX (INDEX|TABLE) CONCURRENTLY build."""
    from migrator.sql.split import split_statements

    found: list[ConcurrentIndex] = []
    try:
        statements = split_statements(sql_text)
    except Exception:
        return found
    for stmt in statements:
        items = _idents(stmt)
        words = [w for w, _ in items]
        if len(words) < 4:
            continue
        if words[0] == "CREATE":
            i = 2 if words[1] == "UNIQUE" else 1
            if words[i:i + 2] != ["INDEX", "CONCURRENTLY"]:
                continue
            i += 2
            if words[i:i + 3] == ["IF", "NOT", "EXISTS"]:
                i += 3
            name_parts: list[str] = []
            if i < len(words) and words[i] != "ON":
                name_parts, i = _dotted(items, i)
            if i >= len(words) or words[i] != "ON":
                continue
            i += 1
            if i < len(words) and words[i] == "ONLY":
                i += 1
            table_parts, _ = _dotted(items, i)
            if not name_parts:
                continue  # an unnamed CIC: PostgreSQL picks the name; nothing to look for
            schema = name_parts[0] if len(name_parts) == 2 else (table_parts[0] if len(table_parts) == 2 else None)
            found.append(ConcurrentIndex(name_parts[-1], schema, _qualify(table_parts)))
        elif words[0] == "REINDEX":
            i = 1
            if i < len(words) and words[i] == "(":
                while i < len(words) and words[i] != ")":
                    i += 1
                i += 1
            if i + 1 >= len(words) or words[i] not in ("INDEX", "TABLE") or words[i + 1] != "CONCURRENTLY":
                continue
            kind = words[i]
            parts, _ = _dotted(items, i + 2)
            if not parts:
                continue
            if kind == "INDEX":
                found.append(ConcurrentIndex(parts[-1], parts[0] if len(parts) == 2 else None, None, reindex=True))
            else:
                found.append(ConcurrentIndex(None, parts[0] if len(parts) == 2 else None, _qualify(parts),
                                             reindex=True))
    return found


def committed_early(sql_text: str, version_table: str = "alembic_version") -> str | None:
    """The first statement with an effect that the revision's offline SQL commits before an autocommit_block
    (alembic renders the block as COMMIT ... BEGIN), or None. Such work is not rolled back by a crash later in
    the revision."""
    from migrator.sql.split import split_statements

    try:
        statements = split_statements(sql_text)
    except Exception:
        return None
    version = version_table.upper()
    first: str | None = None
    for i, stmt in enumerate(statements):
        words = stmt.words
        if not words:
            continue
        if words[0] == "COMMIT":  # an autocommit_block renders as COMMIT ... BEGIN; the revision's own end is not
            reopened = any(later.words[:1] == ("BEGIN",) for later in statements[i + 1:])
            return f"`{first}`" if first and reopened else None
        if words[0] in ("BEGIN", "SET", "RESET", "SHOW") or (words[0] == "SELECT" and "FROM" not in words):
            continue
        if version in words[:6]:
            continue  # alembic's own version table statements
        if first is None:
            first = " ".join(stmt.sql.split())
            first = first if len(first) <= 80 else first[:77] + "..."
    return None


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _qualify(parts: list[str]) -> str | None:
    return ".".join(_quote(p) for p in parts) if parts else None


# --- the applier -----------------------------------------------------------------------------------------


class _Applier:
    def __init__(self, db_url, project_dir, alembic_ini, release_id, phase, ledger_schema, settings, stream,
                 version_table, version_table_schema):
        self.db_url = db_url
        self.project_dir = Path(project_dir)
        self.alembic_ini = alembic_ini
        self.release_id = release_id
        self.phase = phase
        self.schema = ledger_schema
        self.settings = settings
        self.stream = stream
        self.version_table = version_table
        self.version_table_schema = version_table_schema
        self.app_name = f"migrator apply {release_id}"[:63]
        self.pg = None          # psycopg, autocommit: ledger reads, markers, DROP INDEX CONCURRENTLY
        self.engine = None
        self.sa = None          # SQLAlchemy connection alembic runs the revisions on

    def say(self, text: str) -> None:
        print(f"migrator: {text}", file=self.stream, flush=True)

    # -- connections ------------------------------------------------------------------------------------
    def connect(self) -> None:
        import psycopg
        from sqlalchemy import create_engine, pool

        try:
            self.pg = psycopg.connect(libpq_url(self.db_url), autocommit=True, application_name=self.app_name,
                                      connect_timeout=10)
            self.engine = create_engine(sqlalchemy_url(self.db_url), poolclass=pool.NullPool,
                                        connect_args={"application_name": self.app_name, "connect_timeout": 10})
            self.sa = self.engine.connect()
        except Exception as exc:
            self.close()
            raise ReleaseError(f"cannot connect to {safe_url(self.db_url)}: "
                               f"{_scrub(_first_line(exc), self.db_url)}") from None
        self._session(self.pg)
        self.sa_session()

    def _session_sql(self, server_version: int) -> list[str]:
        statements = self.settings.session_sql()
        if server_version >= 140000:
            statements.append(f"SET client_connection_check_interval = {CHECK_INTERVAL_MS}")
        return statements

    def _session(self, pg) -> None:
        for statement in self._session_sql(pg.info.server_version):
            pg.execute(statement)

    def sa_session(self) -> None:
        """lock_timeout / statement_timeout on alembic's connection; committed, so no transaction is left open."""
        driver = self.sa.connection.driver_connection
        for statement in self._session_sql(driver.info.server_version):
            self.sa.exec_driver_sql(statement)
        self.sa.commit()

    def close(self) -> None:
        for closer in (lambda: self.sa and self.sa.close(), lambda: self.engine and self.engine.dispose(),
                       lambda: self.pg and self.pg.close()):
            try:
                closer()
            except Exception:
                pass

    # -- leftovers of a killed run ----------------------------------------------------------------------
    def wait_for_orphans(self) -> None:
        """Sessions of an earlier, killed run of this release's applier end on their own (the server notices the
        dead client within client_connection_check_interval); wait for them, bounded, so their locks are gone."""
        mine = [self.pg.info.backend_pid, self.sa.connection.driver_connection.info.backend_pid]
        deadline = time.monotonic() + ORPHAN_WAIT_S
        told = False
        while True:
            rows = self.pg.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                                   "AND datname = current_database() AND pid <> ALL(%s)",
                                   (self.app_name, mine)).fetchall()
            if not rows or time.monotonic() >= deadline:
                return
            if not told:
                self.say(f"waiting for {len(rows)} session(s) of an interrupted run to end "
                         f"(pid {', '.join(str(r[0]) for r in rows)})")
                told = True
            time.sleep(0.2)

    # -- state ------------------------------------------------------------------------------------------
    def version_heads(self) -> list[str]:
        table = (f"{_quote(self.version_table_schema)}." if self.version_table_schema else "") + \
            _quote(self.version_table)
        exists = self.pg.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]
        if exists is None:
            return []
        return [r[0] for r in self.pg.execute(f"SELECT version_num FROM {table}").fetchall()]

    # -- offline SQL ------------------------------------------------------------------------------------
    def offline_sql(self, cfg, script, rev: str) -> str:
        """The revision's upgrade() rendered as SQL (alembic --sql), without env.py."""
        from alembic.runtime.environment import EnvironmentContext
        from alembic.runtime.migration import RevisionStep

        revision = script.get_revision(rev)
        buffer = io.StringIO()

        def steps(heads, context):
            return [RevisionStep(script.revision_map, revision, True)]

        down = revision.down_revision
        start = down if isinstance(down, str) else None
        with EnvironmentContext(cfg, script, fn=steps, as_sql=True, starting_rev=start, destination_rev=rev) as env:
            env.configure(dialect_name="postgresql", output_buffer=buffer, literal_binds=True,
                          transaction_per_migration=True, version_table=self.version_table,
                          version_table_schema=self.version_table_schema, dialect_opts={"paramstyle": "named"})
            with env.begin_transaction():
                env.run_migrations()
        return buffer.getvalue()

    # -- index builds outside a transaction -------------------------------------------------------------
    def marker(self, rev: str) -> str:
        return f"apply:{self.release_id}:{rev}"

    def _index_rows(self, target: ConcurrentIndex) -> list[tuple[str, bool]]:
        """(qualified name, valid) of the existing indexes `target` stands for."""
        if target.reindex:
            pattern = "_cc(new|old)[0-9]*$"
            if target.name is not None:
                schema_clause = "n.nspname = %s" if target.schema else "n.nspname = ANY(current_schemas(false))"
                params = ["^" + re.escape(target.name) + pattern]
                if target.schema:
                    params.append(target.schema)
                rows = self.pg.execute(
                    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), i.indisvalid FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    f"WHERE c.relname ~ %s AND {schema_clause} AND NOT i.indisvalid", params).fetchall()
            else:
                rows = self.pg.execute(
                    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), i.indisvalid FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE i.indrelid = to_regclass(%s) AND c.relname ~ %s AND NOT i.indisvalid",
                    (target.table, pattern)).fetchall()
            return [(r[0], r[1]) for r in rows]
        schema = target.schema
        if schema is None:
            if target.table is None:
                return []
            row = self.pg.execute("SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                  "WHERE c.oid = to_regclass(%s)", (target.table,)).fetchone()
            if row is None:
                return []  # no table yet: nothing can be left over
            schema = row[0]
        qualified = f"{_quote(schema)}.{_quote(target.name)}"
        row = self.pg.execute(
            "SELECT i.indisvalid, i.indrelid = to_regclass(%s) FROM pg_index i WHERE i.indexrelid = to_regclass(%s)",
            (target.table, qualified)).fetchone()
        if row is None or (target.table is not None and not row[1]):
            return []  # none, or an index of another table: the revision will say so itself
        return [(qualified, row[0])]

    def prepare_marker(self, rev: str, targets: list[ConcurrentIndex]) -> list[str]:
        """Record (once, before the first attempt) which of the revision's indexes already existed; return them."""
        cp = f"{_quote(self.schema)}.checkpoints"
        existing = [q for t in targets if not t.reindex for q, _ in self._index_rows(t)]
        self.pg.execute(f"INSERT INTO {cp} (name, release_id, last_key) VALUES (%s, %s, %s) "
                        "ON CONFLICT (name) DO NOTHING", (self.marker(rev), self.release_id, json.dumps(existing)))
        row = self.pg.execute(f"SELECT last_key FROM {cp} WHERE name = %s", (self.marker(rev),)).fetchone()
        try:
            return list(json.loads(row[0] or "[]"))
        except (TypeError, ValueError):
            return []

    def drop_leftovers(self, rev: str, targets: list[ConcurrentIndex], before: list[str]) -> None:
        for target in targets:
            for qualified, valid in self._index_rows(target):
                if valid and qualified in before:
                    continue  # it existed before this revision ever ran: not ours
                state = "valid, built by an interrupted attempt" if valid else "INVALID"
                self.say(f"{rev}: dropping index {qualified} ({state}) so the revision rebuilds it")
                self.pg.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified}")

    # -- one revision -----------------------------------------------------------------------------------
    def run_revision(self, cfg, script, rev: str, marker: str | None) -> None:
        from alembic.runtime.environment import EnvironmentContext

        from migrator.backfill import release_context
        from migrator.release.ledger import Ledger

        def steps(heads, context):
            found = script._upgrade_revs(rev, heads)
            names = [s.revision.revision for s in found]
            if names != [rev]:
                raise ApplyFailed(f"revision {rev} cannot be applied alone from the database's alembic heads "
                                  f"({', '.join(heads) or 'base'}): alembic would run {', '.join(names) or 'nothing'}",
                                  rev)
            return found

        schema = self.schema
        cp = f"{_quote(schema)}.checkpoints"

        def recorded(ctx, step, heads, run_args):
            # inside the revision's transaction, right after alembic moved alembic_version
            pg = ctx.connection.connection.driver_connection
            ledger = Ledger(pg, schema)
            for ident in step.up_revision_ids:
                ledger.mark_applied(self.release_id, ident, self.phase, conn=pg)
            if marker is not None:
                pg.execute(f"DELETE FROM {cp} WHERE name = %s", (marker,))

        with release_context(self.release_id, rev, self.settings, self.stream):
            with EnvironmentContext(cfg, script, fn=steps, as_sql=False, destination_rev=rev) as env:
                env.configure(connection=self.sa, target_metadata=None, transaction_per_migration=True,
                              on_version_apply=recorded, version_table=self.version_table,
                              version_table_schema=self.version_table_schema)
                with env.begin_transaction():
                    env.run_migrations()

    def reset_sa(self) -> None:
        try:
            if self.sa.in_transaction():
                self.sa.rollback()
        except Exception:
            pass

    def apply_one(self, cfg, script, rev: str) -> None:
        targets: list[ConcurrentIndex] = []
        try:
            offline = self.offline_sql(cfg, script, rev)
        except Exception as exc:  # reads the database, or otherwise cannot render: no index names to watch
            self.say(f"{rev}: cannot render offline ({_scrub(_first_line(exc), self.db_url)}); "
                     "interrupted CONCURRENTLY builds of it are not cleaned up")
        else:
            targets = concurrent_indexes(offline)
            early = committed_early(offline, self.version_table)
            if early:
                self.say(f"{rev}: commits {early} before its autocommit_block; if it is interrupted after that "
                         "commit, a re-run only succeeds when those statements are re-runnable (IF EXISTS / "
                         "IF NOT EXISTS)")
        marker = self.marker(rev) if targets else None
        before = self.prepare_marker(rev, targets) if targets else []
        retries = self.settings.lock_retries
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                self.sa_session()
                if targets:
                    self.drop_leftovers(rev, targets, before)
                self.run_revision(cfg, script, rev, marker)
                self.say(f"applied {rev} ({self.phase}) in {time.monotonic() - started:.2f}s")
                return
            except ApplyFailed:
                self.reset_sa()
                raise
            except Exception as exc:
                self.reset_sa()
                if is_lock_timeout(exc):
                    waited = f"lock_timeout {self.settings.lock_timeout_ms}ms"
                    if attempt > retries:
                        statement = _statement(exc)
                        raise LockRetriesExhausted(
                            f"revision {rev}: could not get its locks within {waited} in {attempt} attempts "
                            f"(lock_retries = {retries}); another session holds a conflicting lock"
                            + (f" (statement: {statement})" if statement else "")
                            + "; nothing of it is applied. Find the blocker in pg_stat_activity / pg_locks, then "
                              "re-run (or raise lock_timeout / lock_retries in [tool.migrator.release])",
                            rev, statement) from None
                    delay = self.settings.backoff(attempt)
                    self.say(f"{rev}: lock not available within {waited} (attempt {attempt}/{retries + 1}); "
                             f"rolled back, retrying in {delay:.2f}s")
                    time.sleep(delay)
                    continue
                if _is_disconnect(exc, self.sa, self.pg):
                    raise ReleaseError(f"lost the connection to {safe_url(self.db_url)} while applying {rev}: "
                                       f"{_scrub(_first_line(exc), self.db_url)}; the revisions recorded as applied "
                                       "are committed, re-run the same command to go on") from None
                statement = _statement(exc)
                raise ApplyFailed(f"revision {rev} failed: {_scrub(_first_line(exc), self.db_url)}"
                                  + (f" (statement: {_scrub(statement, self.db_url)})" if statement else "")
                                  + "; its transaction was rolled back, earlier revisions stay applied",
                                  rev, statement) from None


@contextmanager
def _in_project(project_dir: Path, stream):
    """cwd = the project (alembic's prepend_sys_path and app imports resolve there); stdout of project code goes
    to `stream`; afterwards cwd, sys.path and the modules imported from the project are taken back."""
    saved_cwd, saved_path, saved_modules = os.getcwd(), list(sys.path), set(sys.modules)
    saved_cache = set(sys.path_importer_cache)
    os.chdir(project_dir)
    _forget_relative_finders()
    try:
        with redirect_stdout(stream):
            yield
    finally:
        os.chdir(saved_cwd)
        added = [Path(p if os.path.isabs(p) else os.path.join(project_dir, p)).resolve()
                 for p in sys.path if p not in saved_path]
        roots, protected = [project_dir, *added], _installed_roots()
        for name in [n for n in sys.modules if n not in saved_modules]:
            file = getattr(sys.modules.get(name), "__file__", None)
            if _within(file, roots) and not _within(file, protected):
                del sys.modules[name]
        sys.path[:] = saved_path
        for key in [k for k in sys.path_importer_cache if k not in saved_cache]:
            sys.path_importer_cache.pop(key, None)
        _forget_relative_finders()


def _forget_relative_finders() -> None:
    for key in [k for k in sys.path_importer_cache if not os.path.isabs(k or "")]:
        sys.path_importer_cache.pop(key, None)


def _ancestors(script, heads: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for head in heads:
        for rev in script.iterate_revisions(head, "base"):
            found.add(rev.revision)
    return found


def _parents(rev) -> tuple[str, ...]:
    down = rev.down_revision
    if down is None:
        return ()
    return tuple(down) if isinstance(down, (tuple, list)) else (down,)


def apply_revisions(db_url: str, project_dir, alembic_ini, release, phase: str, revisions: Sequence[str],
                    ledger_schema: str | None = None, settings: ReleaseSettings | None = None, *,
                    stream=None, version_table: str = "alembic_version",
                    version_table_schema: str | None = None) -> list[str]:
    """Apply `revisions` (in order) of the alembic project at `project_dir` to the database at `db_url` for
    `release` (a ledger Release or its id) and `phase`; return the revisions this call applied (those already
    in alembic_version are skipped). Errors: ApplyFailed / LockRetriesExhausted (exit 1), ReleaseError (exit 2).
    Progress and retries are reported on `stream` (default stderr)."""
    from migrator.alembic_source import load_alembic_config, load_script_directory
    from migrator.release.ledger import Ledger

    settings = settings or ReleaseSettings()
    ledger_schema = ledger_schema or settings.ledger_schema
    release_id = release if isinstance(release, str) else release.id
    stream = stream or sys.stderr
    revisions = list(revisions)
    if not revisions:
        return []
    project_dir = Path(project_dir).resolve()
    ini = Path(alembic_ini)
    if not ini.is_absolute():
        ini = project_dir / ini
    applier = _Applier(db_url, project_dir, str(alembic_ini), release_id, phase, ledger_schema, settings, stream,
                       version_table, version_table_schema)
    applied_now: list[str] = []
    with _in_project(project_dir, stream):
        try:
            cfg = load_alembic_config(str(ini))
            script = load_script_directory(cfg, str(alembic_ini))
        except MigratorError as exc:
            raise ReleaseError(str(exc)) from None
        known = {}
        for rev in revisions:
            try:
                found = script.get_revision(rev)
            except Exception:
                found = None
            if found is None:
                raise ReleaseError(f"revision {rev} is not in the alembic history of {project_dir}")
            known[rev] = found
        applier.connect()
        try:
            ledger = Ledger(applier.pg, ledger_schema)
            if applier.pg.execute("SELECT to_regclass(%s)", (f"{ledger_schema}.applied",)).fetchone()[0] is None:
                raise ReleaseError(f"no migrator ledger (schema {ledger_schema}) in {safe_url(db_url)}: "
                                   "run `migrator plan` first")
            if ledger.get(release_id) is None:
                raise ReleaseError(f"release {release_id} is not in the ledger: run `migrator plan` first")
            applier.wait_for_orphans()
            in_db = _ancestors(script, applier.version_heads())
            in_ledger = set(ledger.applied(release_id))
            pending = []
            for rev in revisions:
                if rev in in_db:
                    if rev not in in_ledger:
                        applier.say(f"{rev} is already in alembic_version (applied outside migrator); "
                                    "recording it in the ledger")
                        ledger.mark_applied(release_id, rev, phase)
                    continue
                if rev in in_ledger:
                    raise ReleaseError(f"the ledger records revision {rev} as applied for release {release_id}, but "
                                       f"alembic_version ({', '.join(applier.version_heads()) or 'empty'}) does not "
                                       "contain it: was the database downgraded? Re-apply it by hand or start a new "
                                       "release")
                pending.append(rev)
            ready = set(in_db)
            for rev in pending:
                missing = [p for p in _parents(known[rev]) if p not in ready]
                if missing:
                    raise ReleaseError(f"revision {rev} needs {', '.join(missing)}, which is neither applied nor "
                                       f"before it in this {phase} phase")
                ready.add(rev)
            for rev in pending:
                applier.apply_one(cfg, script, rev)
                applied_now.append(rev)
        finally:
            applier.close()
    return applied_now
