"""Apply a release phase's alembic revisions to the live database: online, one transaction each.

    applied = apply_revisions(db_url, project_dir, "alembic.ini", release, "expand", ["0003"], "migrator", settings)

The revisions run in the app's own interpreter (migrator.runner: the project's code never enters migrator's
process), and the user's env.py is NOT run: alembic's EnvironmentContext is configured there on a connection
of migrator's own (with whichever PostgreSQL driver the app has) with `transaction_per_migration=True`, and
`on_version_apply` writes the ledger's `applied` row in the revision's own transaction (the same one that
moves alembic_version), so a revision is applied and recorded, or neither. migrator's own psycopg connection
reads the ledger, waits for orphans and cleans up interrupted index builds.

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

import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from migrator.db.urls import DatabaseURL
from migrator.db.urls import safe as safe_url
from migrator.db.urls import scrub as _scrub_url
from migrator.errors import MigratorError
from migrator.release.errors import ReleaseError
from migrator.release.settings import ReleaseSettings
from migrator.runner import exception_chain

CHECK_INTERVAL_MS = 1000  # client_connection_check_interval: a killed client's statement stops within ~1 s
ORPHAN_WAIT_S = 15.0      # how long sessions of a killed run may take to end before the command gives up (exit 2)


class ApplyFailed(MigratorError):
    """A revision failed (exit 1); earlier revisions stay applied and recorded, a re-run resumes."""

    exit_code = 1

    def __init__(self, message: str, revision: str | None = None, statement: str | None = None):
        super().__init__(message)
        self.revision, self.statement = revision, statement


class LockRetriesExhausted(ApplyFailed):
    pass


# --- URLs ------------------------------------------------------------------------------------------------


def libpq_url(db_url: str) -> str:
    """The address as libpq / psycopg.connect wants it."""
    try:
        return DatabaseURL.parse(db_url).libpq()
    except MigratorError as exc:
        raise ReleaseError(str(exc)) from None


def _scrub(text: str, db_url: str) -> str:
    return _scrub_url(text, db_url)


# --- errors ----------------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    for e in exception_chain(exc):
        if getattr(e, "sqlstate", None):
            exc = e
            break
    text = str(exc).strip()
    line = (text.splitlines() or [""])[0].strip()
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


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
                 version_table, version_table_schema, child, lock=None):
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
        self.child = child      # migrator.runner.ProjectRunner: the app's interpreter runs the revisions
        self.lock = lock        # migrator.release.coordinator.CoordinatorLock, or None (no coordinator)
        self.app_name = f"migrator apply {release_id}"[:63]
        self.pg = None          # psycopg, autocommit: ledger reads, markers, DROP INDEX CONCURRENTLY

    def say(self, text: str) -> None:
        print(f"migrator: {text}", file=self.stream, flush=True)

    # -- connections ------------------------------------------------------------------------------------
    def connect(self) -> None:
        import psycopg

        from migrator.release.coordinator import keepalive_options, lock_session_sql

        try:
            self.pg = psycopg.connect(libpq_url(self.db_url), autocommit=True, application_name=self.app_name,
                                      connect_timeout=10, **keepalive_options())
        except Exception as exc:
            self.close()
            raise ReleaseError(f"cannot connect to {safe_url(self.db_url)}: "
                               f"{_scrub(_first_line(exc), self.db_url)}") from None
        self._session(self.pg)
        # idle while the child works: no idle timeout may end it (it tells the next run that this one is alive)
        for statement in lock_session_sql(self.pg.info.server_version):
            self.pg.execute(statement)

    def session_sql(self) -> list[str]:
        statements = self.settings.session_sql()
        if self.pg.info.server_version >= 140000:
            statements.append(f"SET client_connection_check_interval = {CHECK_INTERVAL_MS}")
        return statements

    def _session(self, pg) -> None:
        for statement in self.session_sql():
            pg.execute(statement)

    def close(self) -> None:
        try:
            if self.pg is not None:
                self.pg.close()
        except Exception:
            pass

    # -- leftovers of a killed run ----------------------------------------------------------------------
    def wait_for_orphans(self, wait: float = 0.0) -> None:
        """Never apply beside another run's sessions (application_name `migrator apply <release>`: the applier's
        and its child's). A run that lost its coordinator lock but is still alive (its applier session, named in
        the ledger's coordinator table, is connected) stops before its next revision or batch: wait for it up to
        `wait` seconds, else CoordinatorBusy naming it. Sessions of a killed run end on their own (the server
        notices the dead client within client_connection_check_interval): wait for them up to ORPHAN_WAIT_S (or
        `wait`), else ReleaseError. Either way exit 2, and nothing was applied."""
        from migrator.release.coordinator import describe
        from migrator.release.errors import CoordinatorBusy

        mine = [self.pg.info.backend_pid]
        started = time.monotonic()
        told = False
        while True:
            rows = self.pg.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                                   "AND datname = current_database() AND pid <> ALL(%s)",
                                   (self.app_name, mine)).fetchall()
            if not rows:
                return
            pids = ", ".join(str(r[0]) for r in rows)
            live = self.live_run()
            elapsed = time.monotonic() - started
            if live is not None and elapsed >= wait:
                raise CoordinatorBusy(
                    f"another migrator command is still applying revisions of release {self.release_id} ("
                    f"{describe(live)}; sessions pid {pids}): it lost the coordinator lock and stops before its "
                    "next revision or batch; retry when it has ended, or pass --wait SECONDS")
            if live is None and elapsed >= max(ORPHAN_WAIT_S, wait):
                raise ReleaseError(
                    f"{len(rows)} session(s) of an interrupted run of release {self.release_id} (pid {pids}) are "
                    f"still there after {elapsed:.0f}s; nothing was applied. End them (SELECT pg_terminate_backend("
                    "pid) ...) or retry later")
            if not told:
                self.say(f"waiting for {len(rows)} session(s) of " +
                         (f"a run that lost the coordinator lock ({describe(live)})" if live else "an interrupted run")
                         + f" to end (pid {pids})")
                told = True
            time.sleep(0.2)

    def live_run(self) -> dict | None:
        """The holder row of an earlier command whose applier session is still connected (so the command is
        alive), or None."""
        for row in getattr(self.lock, "previous", None) or []:
            if not row.get("applier_pid"):
                continue
            alive = self.pg.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s AND backend_start = %s",
                                    (row["applier_pid"], row["applier_backend_start"])).fetchone()
            if alive:
                return row
        return None

    # -- state ------------------------------------------------------------------------------------------
    def version_heads(self) -> list[str]:
        table = (f"{_quote(self.version_table_schema)}." if self.version_table_schema else "") + \
            _quote(self.version_table)
        exists = self.pg.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]
        if exists is None:
            return []
        return [r[0] for r in self.pg.execute(f"SELECT version_num FROM {table}").fetchall()]

    # -- offline SQL ------------------------------------------------------------------------------------
    def offline_sql(self, rev: str) -> str:
        """The revision's upgrade() rendered as SQL (alembic --sql), without env.py, in the app's interpreter."""
        return self.child.render_bare(rev, self.version_table, self.version_table_schema)

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
        assert target.name is not None  # only a REINDEX TABLE has no index name, and it returned above
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
    def run_revision(self, rev: str, marker: str | None, retries_left: int | None = None) -> None:
        """One attempt at `rev` in the app's interpreter: session settings, the revision in its own transaction
        with its ledger row, the index-build marker forgotten in that same transaction. The child is told the
        lock retries left of the revision's one budget (its backfills take theirs from it) and the coordinator
        lock to check before every batch."""
        cp = f"{_quote(self.schema)}.checkpoints"
        settings = self.settings
        release = {"id": self.release_id, "settings": {
            "ledger_schema": self.schema,
            "lock_retries": settings.lock_retries if retries_left is None else retries_left,
            "lock_timeout_ms": settings.lock_timeout_ms,
            "retry_backoff_base": settings.retry_backoff_base, "retry_backoff_max": settings.retry_backoff_max}}
        release["retry_budget"] = release["settings"]["lock_retries"]  # what the revision's backfills may use
        if self.lock is not None:
            release["lock"] = self.lock.handoff()
        self.child.apply(
            DatabaseURL.parse(self.db_url).url(), rev, session_sql=self.session_sql(), application_name=self.app_name,
            record={"sql": f"INSERT INTO {_quote(self.schema)}.applied (release_id, revision, phase) VALUES "
                           "(:release_id, :revision, :phase) ON CONFLICT DO NOTHING",
                    "params": {"release_id": self.release_id, "phase": self.phase}},
            forget={"sql": f"DELETE FROM {cp} WHERE name = :name", "params": {"name": marker}} if marker else None,
            version_table=self.version_table, version_table_schema=self.version_table_schema, release=release)

    def apply_one(self, rev: str) -> None:
        from migrator.runner import ProjectError

        targets: list[ConcurrentIndex] = []
        try:
            offline = self.offline_sql(rev)
        except ProjectError as exc:  # reads the database, or otherwise cannot render: no index names to watch
            self.say(f"{rev}: cannot render offline ({_scrub(str(exc), self.db_url)}); "
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
            if self.lock is not None:
                self.lock.check(f"revision {rev}")  # no revision starts without the coordinator lock
            try:
                if targets:
                    self.drop_leftovers(rev, targets, before)
                self.run_revision(rev, marker, retries - (attempt - 1))
                self.say(f"applied {rev} ({self.phase}) in {time.monotonic() - started:.2f}s")
                return
            except ProjectError as exc:
                if self.lock is not None:
                    self.lock.check(f"finishing revision {rev}")  # the child was stopped because the lock went
                if exc.extra.get("alone"):
                    raise ApplyFailed(str(exc).split(": ", 1)[-1] if str(exc).startswith(("blue:", "green:"))
                                      else str(exc), rev) from None
                backfill = exc.extra.get("backfill")  # why a migrator.backfill in the revision stopped, if it did
                if backfill == "lost_lock":
                    from migrator.release.errors import CoordinatorLost

                    raise CoordinatorLost(f"lost the coordinator lock: revision {rev} stopped: "
                                          f"{_scrub(_project_message(exc), self.db_url)}") from None
                if backfill == "retries":  # the revision's one budget is spent: no retry of the whole revision
                    raise ApplyFailed(f"revision {rev} failed: {_scrub(_project_message(exc), self.db_url)}; its "
                                      "transaction was rolled back, earlier revisions stay applied", rev) from None
                if exc.sqlstate == "55P03":
                    waited = f"lock_timeout {self.settings.lock_timeout_ms}ms"
                    if attempt > retries:
                        statement = exc.statement
                        raise LockRetriesExhausted(
                            f"revision {rev}: could not get its locks within {waited} in {attempt} attempts "
                            f"(lock_retries = {retries}); another session holds a conflicting lock"
                            + (f" (statement: {_scrub(statement, self.db_url)})" if statement else "")
                            + "; nothing of it is applied. Find the blocker in pg_stat_activity / pg_locks, then "
                              "re-run (or raise lock_timeout / lock_retries in [tool.migrator.release])",
                            rev, statement) from None
                    delay = self.settings.backoff(attempt)
                    self.say(f"{rev}: lock not available within {waited} (attempt {attempt}/{retries + 1}); "
                             f"rolled back, retrying in {delay:.2f}s")
                    time.sleep(delay)
                    continue
                message = _scrub(_project_message(exc), self.db_url)
                if exc.disconnected or exc.kind == "crash":
                    raise ReleaseError(f"lost the connection to {safe_url(self.db_url)} while applying {rev}: "
                                       f"{message}; the revisions recorded as applied are committed, re-run the "
                                       "same command to go on") from None
                if exc.kind != "revision":
                    raise ReleaseError(f"cannot apply {rev}: {message}") from None
                statement = exc.statement
                raise ApplyFailed(f"revision {rev} failed: {message}"
                                  + (f" (statement: {_scrub(statement, self.db_url)})" if statement else "")
                                  + "; its transaction was rolled back, earlier revisions stay applied",
                                  rev, statement) from None


def _project_message(exc) -> str:
    """The child's message without the runner's role prefix."""
    text = str(exc)
    for role in ("blue: ", "green: ", "release: "):
        if text.startswith(role):
            return text[len(role):]
    return text


def apply_revisions(db_url: str, project_dir, alembic_ini, release, phase: str, revisions: Sequence[str],
                    ledger_schema: str | None = None, settings: ReleaseSettings | None = None, *,
                    stream=None, version_table: str = "alembic_version",
                    version_table_schema: str | None = None, runner=None, config=None, lock=None,
                    wait: float = 0.0) -> list[str]:
    """Apply `revisions` (in order) of the alembic project at `project_dir` to the database at `db_url` for
    `release` (a ledger Release or its id) and `phase`; return the revisions this call applied (those already
    in alembic_version are skipped). Errors: ApplyFailed / LockRetriesExhausted (exit 1), ReleaseError (exit 2).
    Progress and retries are reported on `stream` (default stderr). `runner`: the project's child in the app's
    interpreter (made from `config` when not given). `lock`: the command's CoordinatorLock: checked before every
    revision, handed to the child for its backfills' batches, and when the watcher finds it lost the child is
    stopped at once (CoordinatorLost, exit 2)."""
    from migrator.release.ledger import Ledger
    from migrator.runner import ProjectError

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
    own_runner = runner is None
    if own_runner:
        runner = release_runner(project_dir, ini, db_url, config, stream)
    applier = _Applier(db_url, project_dir, str(alembic_ini), release_id, phase, ledger_schema, settings, stream,
                       version_table, version_table_schema, runner, lock)
    applied_now: list[str] = []
    stop_child = runner.close
    if lock is not None:
        lock.on_lost(stop_child)
    try:
        try:
            history = runner.history()
        except ProjectError as exc:
            raise ReleaseError(_scrub(_project_message(exc), db_url)) from None
        for rev in revisions:
            if rev not in history.revisions:
                raise ReleaseError(f"revision {rev} is not in the alembic history of {project_dir}")
        applier.connect()
        ledger = Ledger(applier.pg, ledger_schema)
        for table in ("applied", "checkpoints"):  # no ledger, no resumable backfills: never run without them
            if applier.pg.execute("SELECT to_regclass(%s)", (ledger.table(table),)).fetchone()[0] is None:
                raise ReleaseError(f"no migrator ledger (schema {ledger_schema}, table {table}) in "
                                   f"{safe_url(db_url)}: run `migrator plan` first")
        if ledger.get(release_id) is None:
            raise ReleaseError(f"release {release_id} is not in the ledger: run `migrator plan` first")
        if lock is not None:
            lock.register_applier(applier.pg.info.backend_pid)
        applier.wait_for_orphans(wait)
        in_db = history.ancestors(applier.version_heads())
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
            missing = [p for p in history.revisions[rev].down if p not in ready]
            if missing:
                raise ReleaseError(f"revision {rev} needs {', '.join(missing)}, which is neither applied nor "
                                   f"before it in this {phase} phase")
            ready.add(rev)
        for rev in pending:
            applier.apply_one(rev)
            applied_now.append(rev)
    finally:
        if lock is not None:
            lock.forget(stop_child)
        applier.close()
        if own_runner:
            runner.close()
    return applied_now


def release_runner(project_dir, alembic_ini, db_url: str, config=None, stream=None):
    """The app's child for a release command: its interpreter and app factory from `config`, the app's
    variables for the target database (settings read at import find what they need), its output on `stream`."""
    from migrator.compat.apply import secrets_for
    from migrator.runner.project import app_env, project_runner

    env = app_env(config, db_url)
    return project_runner(str(alembic_ini), config, project_dir=project_dir, env=env,
                          echo=stream or sys.stderr, secrets=secrets_for(db_url, env))
