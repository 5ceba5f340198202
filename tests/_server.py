"""The PostgreSQL server the tests talk to, and throwaway databases on it.

One variable names the server: MIGRATOR_TEST_URL (a libpq URL of a database an admin role can connect to;
default postgresql://postgres@127.0.0.1:5432/postgres). tests/conftest.py turns this into fixtures
(`pg_server`, `throwaway_db`); this module has no pytest import so that bench/ scripts can use the helpers too.

Throwaway databases get a name unique to the run, the xdist worker and the call (prefix, pid, worker, random
token), and only databases made here are dropped.

Dropping. Every DROP DATABASE makes the server run a checkpoint (PostgreSQL 15: it waits for one), which on a
busy server takes seconds; drops issued together share one. So tests hand their databases to `drop_later`, whose
thread drops what has piled up side by side, and `drain()` (the end of the pytest session, or the process)
waits until all are gone.
"""

from __future__ import annotations

import atexit
import functools
import os
import secrets
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

URL_ENV = "MIGRATOR_TEST_URL"
ADMIN_URL = os.environ.get(URL_ENV, "").strip() or "postgresql://postgres@127.0.0.1:5432/postgres"

_parts = urlsplit(ADMIN_URL)
HOST = _parts.hostname or "127.0.0.1"
PORT = _parts.port or 5432
USER = _parts.username or "postgres"
HOSTPORT = f"{HOST}:{PORT}"
SERVER = ADMIN_URL.rsplit("/", 1)[0]  # postgresql://postgres@127.0.0.1:5432: append "/<database>"
SA_SERVER = SERVER.replace("postgresql://", "postgresql+psycopg://", 1)  # the same, SQLAlchemy with psycopg 3


def url(database: str, *, driver: str = "postgresql", password: str | None = None) -> str:
    """The URL of `database` on the test server; `driver` e.g. "postgresql+psycopg"; `password` for the user."""
    auth = f"{USER}:{password}" if password else USER
    return f"{driver}://{auth}@{HOSTPORT}/{database}"


@functools.lru_cache(maxsize=1)
def unreachable() -> str:
    """"" when the server answers, else why not (asked once per process)."""
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return ""
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {ADMIN_URL} ({URL_ENV}): {str(exc).strip().splitlines()[0] if str(exc) else exc}"


def reachable() -> bool:
    return not unreachable()


def admin(statement, params=None) -> list[tuple]:
    """Run one statement as the admin role on the server's admin database (autocommit)."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


def unique_name(prefix: str) -> str:
    """A database name no other run, worker or call uses (PostgreSQL keeps 63 bytes of it)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}{os.getpid()}_{worker}_{secrets.token_hex(4)}"[:63]


def create_database(prefix: str = "migrator_t_", *, name: str | None = None, template: str | None = None) -> str:
    from psycopg import sql

    name = name or unique_name(prefix)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    admin(statement)
    return name


def drop_database(name: str) -> None:
    from psycopg import sql

    admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def drop_many(names: list[str]) -> list[str]:
    """Drop them side by side, 16 at a time (their checkpoints coincide); the ones that failed, one line each.
    Plain threads, not an executor: it also runs at interpreter exit (drain), where executors take no work."""
    errors: list[str] = []

    def drop(name: str) -> None:
        try:
            drop_database(name)
        except Exception as exc:  # noqa: BLE001 - reported by name, the others still go
            errors.append(f"{name}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")

    for i in range(0, len(names), 16):
        threads = [threading.Thread(target=drop, args=(name,), daemon=True) for name in names[i:i + 16]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors


class _Dropper:
    """Drops the databases handed to it on a thread of its own, all that piled up at once."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self.in_flight: list[str] = []
        self.busy = False
        self.cond = threading.Condition()
        self.thread: threading.Thread | None = None
        self.errors: list[str] = []

    def add(self, names) -> None:
        with self.cond:
            self.pending.extend(names)
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="tests-dropper", daemon=True)
                self.thread.start()
            self.cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: bool(self.pending))
                batch, self.pending, self.busy = self.pending, [], True
                self.in_flight = batch
            try:
                failed = drop_many(batch)
            except BaseException as exc:  # noqa: BLE001 - drain() must never wait for a batch that died
                failed = [f"{', '.join(batch)}: {exc}"]
            with self.cond:
                self.errors.extend(failed)
                self.busy, self.in_flight = False, []
                self.cond.notify_all()

    def drain(self, timeout: float = 600) -> list[str]:
        """Wait until every database handed over is dropped; the drops that failed (one line each)."""
        with self.cond:
            self.cond.wait_for(lambda: not self.pending and not self.busy, timeout=timeout)
            errors, self.errors = self.errors, []
            return errors


_dropper = _Dropper()


def drop_later(*names: str) -> None:
    """Drop these databases soon, on the dropper's thread (see the module doc); `drain()` waits for them."""
    _dropper.add(names)


def dropping() -> set[str]:
    """The databases handed to `drop_later` and not dropped yet."""
    with _dropper.cond:
        return set(_dropper.pending) | set(_dropper.in_flight)


def drain() -> list[str]:
    """Wait for every `drop_later` drop; the ones that failed, one line each."""
    return _dropper.drain()


atexit.register(drain)


@contextmanager
def throwaway(prefix: str = "migrator_t_", *, template: str | None = None, later: bool = False):
    """A new database (its name); dropped afterwards, whatever happened (`later`: by drop_later)."""
    name = create_database(prefix, template=template)
    try:
        yield name
    finally:
        if later:
            drop_later(name)
        else:
            drop_database(name)
