"""Server (a PostgreSQL server we may create databases on) and Database (one throwaway database)."""

from __future__ import annotations

import atexit
import logging
import os
import re
import secrets
import time
import weakref
from typing import TYPE_CHECKING

from . import _signals, _urls
from .errors import ProvisionError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("migrator.provision")

_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,23}")  # names stay within 63 bytes
_live: "weakref.WeakSet[Server]" = weakref.WeakSet()
_RETRIES = 50  # x 20 ms: how long we wait for sessions on a database being cloned or dropped to go


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def _unique_name(prefix: str, middle: str = "") -> str:
    if not _PREFIX.fullmatch(prefix):
        raise ProvisionError(f"database prefix {prefix!r} must match {_PREFIX.pattern}")
    return f"{prefix}_{middle}{os.getpid()}_{secrets.token_hex(4)}"


class Database:
    """One database on a Server; `drop()` (or leaving its `with` block) removes it. Idempotent."""

    def __init__(self, server: "Server", name: str, template: bool = False, key: str | None = None):
        self.server, self.name, self.is_template, self.key = server, name, template, key
        self._url = _urls.with_database(server._admin, name)
        self.dropped = False

    @property
    def url(self) -> str:
        """SQLAlchemy URL `postgresql+psycopg://...` (holds the password: never print it, use safe_url())."""
        return _urls.render(self._url)

    def render(self, driver: str | None = "postgresql", hide_password: bool = False) -> str:
        """The URL for another client: "postgresql" = plain libpq URI, "postgresql+psycopg2", ..."""
        return _urls.render(self._url, driver, hide_password)

    @property
    def libpq_url(self) -> str:
        return self.render("postgresql")

    def safe_url(self) -> str:
        return _urls.safe(self._url)

    def clone(self, prefix: str = "migrator") -> "Database":
        """A new database copied from this one (CREATE DATABASE ... TEMPLATE); sessions on this one are ended."""
        return self.server.create_database(prefix, template=self)

    def freeze(self) -> None:
        """Mark a template read-only for clones: IS_TEMPLATE true, no new connections."""
        self.server._freeze(self)

    def drop(self) -> None:
        if not self.dropped:
            with _signals.deferred():
                self.server._drop(self)

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.drop()

    def __repr__(self) -> str:
        kind = "template " if self.is_template else ""
        return f"<Database {kind}{self.name} {self.safe_url()}{' dropped' if self.dropped else ''}>"


class Server:
    """A reachable PostgreSQL server. Use as a context manager: stop() drops every database it created
    and, for servers a provider started (`owned`), stops the server and removes its files."""

    owned = False

    def __init__(self, admin_url, provider: str):
        self.provider = provider
        self._admin = _urls.parse(admin_url, provider)
        self._conn: psycopg.Connection | None = None
        self._databases: list[Database] = []
        self._stopped = False
        self.skipped: dict[str, str] = {}  # filled by the auto provider: provider -> why it was not used
        self.startup_seconds = 0.0
        self._guarded = _signals.acquire()
        _live.add(self)

    # -- connection ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return _urls.render(self._admin)

    def safe_url(self) -> str:
        return _urls.safe(self._admin)

    def error(self, action: str, exc: BaseException) -> ProvisionError:
        """A one-line ProvisionError "<action>: <why>", the password hidden."""
        return ProvisionError(_urls.scrub(f"{action}: {_one_line(exc)}", self._admin), self.provider)

    def connect(self, timeout: float = 5.0):
        """The autocommit admin connection (on the URL's database, "postgres" by default)."""
        if self._conn is None or self._conn.closed:
            import psycopg

            try:
                self._conn = psycopg.connect(_urls.render(self._admin, "postgresql"), autocommit=True,
                                             connect_timeout=max(1, int(timeout)))
            except psycopg.Error as exc:
                raise self.error(f"cannot connect to {self.safe_url()}", exc) from None
        return self._conn

    def query(self, action: str, query, params=None) -> list[tuple]:
        """Rows of `query` on the admin connection; a failure is error(action, ...)."""
        import psycopg

        try:
            cur = self.connect().execute(query, params)
            return cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            raise self.error(action, exc) from None

    @property
    def version(self) -> int:
        return self.connect().info.server_version

    def database_names(self, prefix: str) -> list[str]:
        rows = self.query("list databases", "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
                          (prefix.replace("_", r"\_") + r"\_%",))
        return [r[0] for r in rows]

    # -- databases ----------------------------------------------------------------------------
    def new_name(self, prefix: str = "migrator") -> str:
        """A name for a database that does not exist yet (to hand out its URL before creating it)."""
        return _unique_name(prefix)

    def url_of(self, name: str) -> str:
        return _urls.render(_urls.with_database(self._admin, name))

    def create_database(self, prefix: str = "migrator", template: "Database | str | None" = None, *,
                        name: str | None = None) -> Database:
        """A new empty database (from template1), or a clone of `template` (CREATE DATABASE ... TEMPLATE);
        `name`: one from new_name()."""
        from psycopg import sql

        db = self._track(Database(self, name or _unique_name(prefix)))
        try:
            if template is None:
                self.query(f"cannot create database {db.name}", sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.name)))
            else:
                self._clone(db, template.name if isinstance(template, Database) else template)
        except ProvisionError:
            self._databases.remove(db)
            raise
        return db

    def clone_many(self, template: str, names: list[str]) -> list[Database]:
        """Copies of `template` under `names`, made side by side, each on a connection of its own (CREATE
        DATABASE waits on the disk: two copies take little longer than one)."""
        import psycopg
        from concurrent.futures import ThreadPoolExecutor
        from psycopg import sql

        if len(names) <= 1:
            return [self.create_database(template=template, name=n) for n in names]
        self.end_sessions(template)
        dbs = [self._track(Database(self, name)) for name in names]

        def clone(db: Database) -> None:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(db.name), sql.Identifier(template))
            for attempt in range(_RETRIES):
                try:
                    with psycopg.connect(_urls.render(self._admin, "postgresql"), autocommit=True,
                                         connect_timeout=10) as conn:
                        conn.execute(query)
                    return
                except psycopg.errors.ObjectInUse as exc:
                    if attempt == _RETRIES - 1:
                        raise self.error(f"cannot clone {template} into {db.name}", exc) from None
                    time.sleep(0.02)
                except psycopg.Error as exc:
                    raise self.error(f"cannot clone {template} into {db.name}", exc) from None

        with ThreadPoolExecutor(max_workers=len(dbs)) as pool:
            futures = [pool.submit(clone, db) for db in dbs]
        for future in futures:
            future.result()  # the first failure; every database stays tracked, so cleanup drops what exists
        return dbs

    def _track(self, db: Database) -> Database:
        """Tracked before CREATE DATABASE is sent: if a signal interrupts it, stop() still drops it (IF EXISTS)."""
        self._databases.append(db)
        return db

    def create_template(self, name_key: str, prefix: str = "migrator") -> Database:
        """An empty database to fill (e.g. alembic upgrade on its url), then clone with create_database(template=)."""
        from psycopg import sql

        slug = re.sub(r"[^a-z0-9]+", "_", name_key.lower())[:12].strip("_")
        db = self._track(Database(self, _unique_name(prefix, f"tpl_{slug}_" if slug else "tpl_"), template=True, key=name_key))
        try:
            self.query(f"cannot create template {db.name}", sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.name)))
        except ProvisionError:
            self._databases.remove(db)
            raise
        return db

    def end_sessions(self, name: str, wait: float = 2.0) -> None:
        """End every other session on `name` (autovacuum included) and wait until they are gone: CREATE/DROP
        DATABASE would otherwise sleep in 100 ms steps for them."""
        action, deadline = f"cannot end sessions on {name}", time.monotonic() + wait
        query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        pids = self.query(action, query, (name,))
        if pids:
            self.query(action, "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", ([p[0] for p in pids],))
        while pids and time.monotonic() < deadline:
            time.sleep(0.005)
            pids = self.query(action, query, (name,))

    def _retry_in_use(self, name: str, action: str, query) -> None:
        """Run `query` (CREATE ... TEMPLATE name / DROP name), ending sessions on `name` while it is in use."""
        import psycopg

        for attempt in range(_RETRIES):
            self.end_sessions(name)
            try:
                self.connect().execute(query)
                return
            except psycopg.errors.ObjectInUse as exc:
                if attempt == _RETRIES - 1:
                    raise self.error(action, exc) from None
                time.sleep(0.02)
            except psycopg.Error as exc:
                raise self.error(action, exc) from None

    def _clone(self, db: Database, template: str) -> None:
        from psycopg import sql

        query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(db.name), sql.Identifier(template))
        self._retry_in_use(template, f"cannot clone {template} into {db.name}", query)

    def _freeze(self, db: Database) -> None:
        from psycopg import sql

        self.query(f"cannot freeze {db.name}", sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
                   .format(sql.Identifier(db.name)))
        self.end_sessions(db.name)

    def _drop(self, db: Database) -> None:
        from psycopg import sql

        if self._stopped and self.owned:
            db.dropped = True  # the whole cluster is gone
            return
        ident = sql.Identifier(db.name)
        rows = self.query(f"cannot drop {db.name}", "SELECT datistemplate FROM pg_database WHERE datname = %s", (db.name,))
        if rows:
            # no new sessions (connection pools reconnect), and a template must be unmarked to be dropped
            self.query(f"cannot drop {db.name}",
                       sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false ALLOW_CONNECTIONS false").format(ident))
            force = sql.SQL(" WITH (FORCE)") if self.version >= 130000 else sql.SQL("")
            self._retry_in_use(db.name, f"cannot drop {db.name}", sql.SQL("DROP DATABASE IF EXISTS {}{}").format(ident, force))
        db.dropped = True
        if db in self._databases:
            self._databases.remove(db)

    def _drop_all(self, databases: list[Database]) -> list[str]:
        """Drop them side by side (each DROP DATABASE waits on the server's disk); the errors, one line each."""
        if len(databases) <= 1 or self.version < 130000:
            errors = []
            for db in databases:
                try:
                    db.drop()
                except ProvisionError as exc:
                    errors.append(str(exc))
            return errors
        import psycopg
        from concurrent.futures import ThreadPoolExecutor
        from psycopg import sql

        def drop(db: Database) -> str | None:
            ident = sql.Identifier(db.name)
            try:
                with psycopg.connect(_urls.render(self._admin, "postgresql"), autocommit=True,
                                     connect_timeout=10) as conn:
                    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db.name,)).fetchone():
                        conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false ALLOW_CONNECTIONS false")
                                     .format(ident))
                        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            except psycopg.Error as exc:
                return str(self.error(f"cannot drop {db.name}", exc))
            db.dropped = True
            return None

        with ThreadPoolExecutor(max_workers=min(8, len(databases))) as pool:
            results = list(pool.map(drop, databases))
        for db in databases:
            if db.dropped and db in self._databases:
                self._databases.remove(db)
        return [r for r in results if r]

    # -- lifecycle ----------------------------------------------------------------------------
    def _discard_busy_connection(self) -> None:
        """A signal may have interrupted a query: clean up on a fresh connection then."""
        if self._conn is not None and not self._conn.closed:
            from psycopg import pq

            if self._conn.info.transaction_status != pq.TransactionStatus.IDLE:
                self._conn.close()

    def _shutdown(self) -> None:
        """Stop what the provider started (server process, container, temp dir). Nothing for a URL."""

    def stop(self) -> None:
        """Drop our databases, close the connection, stop what the provider started. Idempotent."""
        if self._stopped:
            return
        errors: list[str] = []
        try:
            with _signals.deferred():
                self._discard_busy_connection()
                if not self.owned:
                    errors += self._drop_all(list(reversed(self._databases)))
                self._stopped = True
                for db in self._databases:
                    db.dropped = True
                self._databases.clear()
                if self._conn is not None:
                    try:
                        self._conn.close()
                    except Exception:  # a broken connection is closed anyway
                        pass
                try:
                    self._shutdown()
                except ProvisionError as exc:
                    errors.append(str(exc))
        finally:
            self._stopped = True
            _live.discard(self)
            if self._guarded:
                self._guarded = False
                _signals.release()
        if errors:
            raise ProvisionError("cleanup incomplete: " + "; ".join(errors))

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.stop()
        except ProvisionError as error:
            if exc_type is None:
                raise
            log.warning("%s", error)  # do not hide the error that ended the block

    def __repr__(self) -> str:
        return f"<Server {self.provider} {self.safe_url()}{' stopped' if self._stopped else ''}>"


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_live):
        try:
            server.stop()
        except Exception as exc:  # last resort at interpreter exit: report, never raise
            log.warning("%s", exc)
