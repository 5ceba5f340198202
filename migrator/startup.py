"""A start-up check for apps, instead of running migrations when the app starts.

    from migrator.startup import check_schema
    check_schema(engine, script_location="migrations")     # in create_app() / FastAPI's lifespan

An app that runs `alembic upgrade` (or Flask-Migrate's `upgrade()`) at start-up breaks a blue-green release:
once green's expand revisions are applied, a restarting blue pod finds a revision it does not know ("Can't
locate revision") and crashes; a starting green pod would apply green's contract revisions while blue still
serves. `check_schema` never changes the database. The app may start when

- the database is at this app's alembic head, or
- the database is at a revision of the release migrator has in flight (its ledger in the same database), this
  app is that release's blue or green, and the release's compatibility evidence proves this app version passes
  on that schema (blue on the expanded schema; green on the expanded and the contracted schema).

Otherwise it raises SchemaNotReady with one line that says what the database is at and what to run.
Under migrator's own runner (MIGRATOR_RUNNER set) and in `migrator compat`'s suites (MIGRATOR_CELL set) it
returns at once: there migrator itself decides, and the suite is the proof being made.

Needs only what the app has: SQLAlchemy 1.4+ and alembic 1.7+ (no other part of migrator is imported).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

RUNNER_ENV = "MIGRATOR_RUNNER"
CELL_ENV = "MIGRATOR_CELL"  # set by `migrator compat` for the suites: the schema is the one being proven
DEFAULT_LEDGER_SCHEMA = "migrator"


class SchemaNotReady(RuntimeError):
    """The database is not at a schema this app version may run on."""


def check_schema(bind, script_location: str | os.PathLike | None = None, *, alembic_config: str | None = None,
                 version_table: str = "alembic_version", ledger_schema: str = DEFAULT_LEDGER_SCHEMA) -> str:
    """Return a one-line reason the app may start, or raise SchemaNotReady.

    `bind`: a SQLAlchemy Engine or Connection, or a database URL. `script_location`: the alembic folder
    (Flask-Migrate's `migrations`), or `alembic_config`: the path of alembic.ini.
    """
    if os.environ.get(RUNNER_ENV) or os.environ.get(CELL_ENV):
        return "schema check skipped: running under migrator"
    app_heads = _app_heads(script_location, alembic_config)
    if isinstance(bind, str) and "+asyncpg" in bind.split("://", 1)[0]:
        raise TypeError("check_schema: an asyncpg URL needs check_schema_async (or give a sync driver's URL)")
    with _connection(bind) as conn:
        return _decide(_read_database(conn, version_table, ledger_schema, app_heads), app_heads)


async def check_schema_async(bind, script_location: str | os.PathLike | None = None, **kwargs) -> str:
    """check_schema for an AsyncEngine / AsyncConnection (asyncpg apps)."""
    if os.environ.get(RUNNER_ENV) or os.environ.get(CELL_ENV):
        return "schema check skipped: running under migrator"
    app_heads = _app_heads(script_location, kwargs.pop("alembic_config", None))
    version_table = kwargs.pop("version_table", "alembic_version")
    ledger_schema = kwargs.pop("ledger_schema", DEFAULT_LEDGER_SCHEMA)
    if kwargs:
        raise TypeError(f"unexpected arguments: {', '.join(kwargs)}")
    connect = getattr(bind, "connect", None)
    if connect is not None and not hasattr(bind, "run_sync"):
        async with bind.connect() as conn:
            found = await conn.run_sync(lambda c: _read_database(c, version_table, ledger_schema, app_heads))
    else:
        found = await bind.run_sync(lambda c: _read_database(c, version_table, ledger_schema, app_heads))
    return _decide(found, app_heads)


# -- the app's side ---------------------------------------------------------------------------------------------
def _app_heads(script_location, alembic_config) -> list[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    if alembic_config:
        cfg = Config(str(alembic_config))
        if script_location:
            cfg.set_main_option("script_location", str(script_location))
    elif script_location:
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(script_location)))
    else:
        raise TypeError("check_schema needs script_location= (the alembic folder) or alembic_config=")
    return sorted(ScriptDirectory.from_config(cfg).get_heads())


# -- the database's side ----------------------------------------------------------------------------------------
class _Found:
    def __init__(self, heads, release):
        self.heads, self.release = heads, release


class _connection:
    """A SQLAlchemy connection for `bind` (Engine, Connection or URL); nothing is written."""

    def __init__(self, bind):
        self.bind, self.engine, self.conn = bind, None, None

    def __enter__(self):
        bind = self.bind
        if isinstance(bind, (str, os.PathLike)) or type(bind).__name__ == "URL":
            from sqlalchemy import create_engine, pool

            self.engine = create_engine(bind, poolclass=pool.NullPool)
            bind = self.engine
        if hasattr(bind, "connect") and not hasattr(bind, "exec_driver_sql"):  # an Engine
            self.conn = bind.connect()
            return self.conn
        return bind  # already a Connection: the caller owns it

    def __exit__(self, *exc):
        if self.conn is not None:
            self.conn.close()
        if self.engine is not None:
            self.engine.dispose()


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _read_database(conn, version_table: str, ledger_schema: str, app_heads: list[str]) -> _Found:
    from sqlalchemy import text

    def scalar_rows(sql, **params):
        return [tuple(r) for r in conn.execute(text(sql), params).fetchall()]

    nested = conn.in_transaction()
    if nested:  # read inside a savepoint so an error does not spoil the caller's transaction
        tx = conn.begin_nested()
    try:
        exists = scalar_rows("SELECT to_regclass(:name) IS NOT NULL", name=version_table)[0][0]
        heads = sorted(r[0] for r in scalar_rows(f"SELECT version_num FROM {_quote(version_table)}")) if exists else []
        release = None
        if heads == app_heads:
            return _Found(heads, None)  # at this app's own revision: the ledger has nothing to add
        usage = scalar_rows("SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = :schema",
                            schema=ledger_schema)
        readable = None  # no ledger
        if usage and not usage[0][0]:
            readable = False
        elif usage and scalar_rows("SELECT to_regclass(:name) IS NOT NULL",
                                   name=f"{_quote(ledger_schema)}.releases")[0][0]:
            readable = scalar_rows("SELECT has_table_privilege(:table, 'SELECT')",
                                   table=f"{_quote(ledger_schema)}.releases")[0][0]
        if readable is False:
            raise SchemaNotReady(f"the database is at revision {', '.join(heads) or 'base'}, this app expects "
                                 f"{', '.join(app_heads) or 'base'}, and this role may not read migrator's ledger "
                                 f"(schema {ledger_schema}): GRANT USAGE ON SCHEMA {ledger_schema} and SELECT ON "
                                 f"{ledger_schema}.releases to it")
        if readable:
            rows = scalar_rows(f"SELECT id, state, revisions::text, evidence::text FROM {_quote(ledger_schema)}.releases "
                               "ORDER BY (state <> 'contracted') DESC, created_at DESC LIMIT 1")
            if rows:
                rid, state, revisions, evidence = rows[0]
                release = {"id": rid, "state": state, "revisions": json.loads(revisions or "{}"),
                           "evidence": json.loads(evidence) if evidence else None}
    finally:
        if nested:
            tx.rollback()
        elif conn.in_transaction():
            conn.rollback()
    return _Found(heads, release)


# -- the verdict ------------------------------------------------------------------------------------------------
def _decide(found: _Found, app_heads: list[str]) -> str:
    db, app = found.heads, app_heads
    shown_app = ", ".join(app) or "base"
    if db == app:
        return f"database at {shown_app}, this app's revision"
    if not db:
        raise SchemaNotReady(f"the database has no alembic revision; this app needs {shown_app}: run the migrations "
                             "(the release's expand) before starting the app")
    shown_db = ", ".join(db)
    release = found.release
    if release is not None and release["state"] == "contracted":
        blue = list((release["revisions"] or {}).get("blue_heads") or [])
        if app == blue:
            raise SchemaNotReady(f"release {release['id']} is contracted: blue's schema is gone (the database is at "
                                 f"{shown_db}); this version ({shown_app}) cannot run any more: deploy green")
        release = None  # a finished release says nothing about this app version
    if release is None:
        raise SchemaNotReady(f"the database is at revision {shown_db}, this app expects {shown_app}, and no migrator "
                             "release is in flight: deploy the app version that matches the database, or run the "
                             "release's phase that brings the database to this app's revision")
    revs = release["revisions"] or {}
    blue = list(revs.get("blue_heads") or [])
    expand, migrate, contract = (list(revs.get(p) or []) for p in ("expand", "migrate", "contract"))
    path = [*(blue[:1] or [None]), *expand, *migrate, *contract]
    if len(db) != 1 or db[0] not in path:
        raise SchemaNotReady(f"the database is at revision {shown_db}, which is not on release {release['id']}'s "
                             f"path ({' -> '.join(str(p or 'base') for p in path)}); this app expects {shown_app}")
    position, migrated = path.index(db[0]), len(expand) + len(migrate)
    green_head = path[-1]
    if app == blue[:1] and len(blue) == 1:
        role, allowed, schema = "blue", range(0, migrated + 1), "expanded"
    elif len(app) == 1 and app[0] == green_head:
        role, allowed = "green", range(migrated, len(path))
        schema = "contracted" if position > migrated else "expanded"
    else:
        raise SchemaNotReady(f"this app (alembic head {shown_app}) is neither blue ({', '.join(blue) or 'base'}) nor "
                             f"green ({green_head}) of release {release['id']}, which has the database at {shown_db}")
    if position not in allowed:
        where = "contracted (blue's schema is gone)" if role == "blue" else "not yet migrated for green"
        raise SchemaNotReady(f"release {release['id']} has the database at {shown_db}: {where}; {role} cannot start "
                             "on it")
    proof = _proven(release.get("evidence"), role, schema)
    if proof is not None:
        raise SchemaNotReady(f"release {release['id']} has the database at {shown_db} and {role} is not proven to run "
                             f"on the {schema} schema: {proof}")
    return f"database at {shown_db}, the {schema} schema of release {release['id']}, which {role} is proven to run on"


def _proven(evidence, app: str, schema: str) -> str | None:
    """None when the release's evidence has a passing cell for (app, schema); else why not."""
    if not isinstance(evidence, dict):
        return "the release has no compatibility evidence yet (`migrator expand --evidence FILE`)"
    for cell in evidence.get("cells") or []:
        if not isinstance(cell, dict) or (cell.get("app"), cell.get("schema")) != (app, schema):
            continue
        passed, failed, errors = cell.get("passed"), cell.get("failed"), cell.get("errors")
        if not (type(passed) is int and type(failed) is int and type(errors) is int):
            return f"its {app}/{schema} cell is malformed"
        if cell.get("result") == "pass" and passed > 0 and failed == 0 and errors == 0:
            return None
        return f"its {app}/{schema} cell did not pass ({passed} passed, {failed} failed, {errors} errors)"
    return f"the evidence has no {app}/{schema} cell (`migrator compat{' --full' if schema == 'contracted' else ''}`)"
