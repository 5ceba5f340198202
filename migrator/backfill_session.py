"""The connection a backfill runs on, whatever the driver: a SQLAlchemy 1.4+ Connection (psycopg, psycopg2,
asyncpg, pg8000) through `text()`, or a bare psycopg / psycopg2 connection through its cursor.

Statements are templates with `:name` parameters and `{fragment}` slots for SQL written by the revision's author
(`set_sql`, `where`, the table): `compose()` splices fragments in so that a `%` or `:` in them stays literal (D10).
Imported in the app's interpreter (Python 3.8+), so nothing newer than that.
"""

from __future__ import annotations

import re

_PARAM = re.compile(r"(?<![:\w]):(\w+)(?![:\w])")  # as SQLAlchemy's text(): `::` casts are not parameters


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlstate(exc: BaseException | None) -> str | None:
    """The SQLSTATE of a driver error, also when SQLAlchemy wraps it (psycopg: sqlstate, psycopg2: pgcode)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for attr in ("sqlstate", "pgcode"):
            value = getattr(exc, attr, None)
            if isinstance(value, str) and value:
                return value
        exc = getattr(exc, "orig", None) or exc.__cause__
    return None


class Session:
    """One connection; `autocommit`: each statement commits unless the backfill opens a transaction itself."""

    def __init__(self, conn):
        self.conn = conn
        self.alchemy = hasattr(conn, "exec_driver_sql")
        raw = conn
        if self.alchemy:
            fairy = conn.connection
            raw = getattr(fairy, "dbapi_connection", None) or getattr(fairy, "connection", None)
        elif not hasattr(conn, "cursor"):
            raise TypeError(f"backfill needs a SQLAlchemy Connection or a psycopg / psycopg2 connection, got "
                            f"{type(conn).__name__}")
        self.dbapi = raw
        self.autocommit = bool(getattr(raw, "autocommit", False))
        self._trans = None

    def idle(self) -> bool:
        """Outside a transaction (each batch commits on its own)?"""
        if self.autocommit:
            return True
        if self.alchemy:
            return not self.conn.in_transaction()
        info = getattr(self.dbapi, "info", None)  # psycopg 3
        if info is not None and hasattr(info, "transaction_status"):
            return int(info.transaction_status) == 0
        status = getattr(self.dbapi, "get_transaction_status", None)  # psycopg2
        return status is not None and status() == 0

    def compose(self, template: str, **fragments: str):
        """A statement to run: `template` (ours) with the author's fragments spliced in literally."""
        if self.alchemy:
            from sqlalchemy import text

            # text() doubles `%` for the driver itself; a `:` of the author's is escaped so it is no parameter
            return text(template.format(**{k: v.replace(":", "\\:") for k, v in fragments.items()}))
        return _PARAM.sub(r"%(\1)s", template).format(**{k: v.replace("%", "%%") for k, v in fragments.items()})

    def one(self, statement, params: dict | None = None):
        """Run `statement`; its first row (None without rows or result)."""
        if self.alchemy:
            result = self.conn.execute(statement, params or {})
            return tuple(result.fetchone()) if result.returns_rows else None
        cur = self.dbapi.cursor()
        try:
            cur.execute(statement, params or {})
            return tuple(cur.fetchone()) if cur.description is not None else None
        finally:
            cur.close()

    def script(self, statement: str) -> None:
        """Run `statement` on the driver's own cursor with no parameters (SQLAlchemy would pass an empty mapping,
        which makes psycopg2 read `%`), so a `%` or `:` in it is literal. For autocommit sessions only."""
        cur = self.dbapi.cursor()
        try:
            cur.execute(statement)
        finally:
            cur.close()

    def begin(self) -> None:
        if self.autocommit:
            self._driver("BEGIN")
        elif self.alchemy:
            self._trans = self.conn.begin()
        # a bare connection not in autocommit begins by itself

    def commit(self) -> None:
        self._end("commit")

    def rollback(self) -> None:
        try:
            self._end("rollback")
        except Exception:  # noqa: BLE001 - a broken connection: the server rolled back anyway
            pass

    def _end(self, verb: str) -> None:
        """COMMIT or ROLLBACK, the way this connection began its transaction."""
        if self.autocommit:
            self._driver(verb.upper())
        elif self._trans is not None:
            self._trans, trans = None, self._trans
            getattr(trans, verb)()
        else:
            getattr(self.dbapi, verb)()

    def _driver(self, statement: str) -> None:
        if self.alchemy:
            self.conn.exec_driver_sql(statement)
        else:
            cur = self.dbapi.cursor()
            try:
                cur.execute(statement)
            finally:
                cur.close()
