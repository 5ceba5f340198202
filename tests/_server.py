"""The PostgreSQL server the tests talk to, and throwaway databases on it.

One variable names the server: MIGRATOR_TEST_URL (a libpq URL of a database an admin role can connect to;
default postgresql://postgres@127.0.0.1:5432/postgres). tests/conftest.py turns this into fixtures
(`pg_server`, `throwaway_db`); this module has no pytest import so that bench/ scripts can use the helpers too.

Throwaway databases get a name unique to the run, the xdist worker and the call (prefix, pid, worker, random
token), and only databases made here are dropped.
"""

from __future__ import annotations

import functools
import os
import secrets
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


@contextmanager
def throwaway(prefix: str = "migrator_t_", *, template: str | None = None):
    """A new database (its name); dropped afterwards, whatever happened."""
    name = create_database(prefix, template=template)
    try:
        yield name
    finally:
        drop_database(name)
