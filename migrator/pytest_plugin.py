"""pytest fixtures for compat suites: the database `migrator compat` made, as a URL, an engine, a connection.

Loaded automatically (entry point `pytest11`) wherever migrator is installed; a suite in an environment
without migrator can load it with `pytest_plugins = ["migrator.pytest_plugin"]` in its conftest.py.

    def test_insert_user(db_connection):
        db_connection.execute(text("INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.org')"))
        assert db_connection.execute(text("SELECT count(*) FROM users")).scalar() == 1   # rolled back afterwards

Fixtures:
- `database_url` (session): the URL in $MIGRATOR_URL_VAR (set by `migrator compat` when its url_var is not
  DATABASE_URL) or else $DATABASE_URL; tests that use it are skipped with the reason when it is unset.
- `db_engine` (session): a SQLAlchemy engine on it (a URL without a driver gets psycopg 3 when installed),
  disposed at the end of the session.
- `db_connection`: a connection inside a transaction that is rolled back after the test, so tests see
  each other's schema but never each other's rows (so do not call commit(); for a statement expected to
  fail use `with db_connection.begin_nested():`, a savepoint).

Marker: `@pytest.mark.migrator_contracted` marks a test that checks the contracted schema itself (a
constraint only the contract revision adds): under `migrator compat` it runs in the green/contracted cell
alone and is deselected in the others; outside migrator it runs as usual.

Defining a fixture of the same name in a conftest.py overrides these. Importing this module costs nothing:
SQLAlchemy is imported by the fixtures, when a test asks for them.
"""

from __future__ import annotations

import json
import os

import pytest

URL_VAR_ENV = "MIGRATOR_URL_VAR"
DEFAULT_URL_VAR = "DATABASE_URL"
CELL_ENV = "MIGRATOR_CELL"  # "blue/expanded", "green/contracted", ... (set by migrator compat)
CELL_REPORT_ENV = "MIGRATOR_CELL_REPORT"  # where to write what was deselected
CONTRACTED_MARKER = "migrator_contracted"
WORKER_ENV = "MIGRATOR_WORKER_ENV"  # {"gw0": {variables}, "gw1": ...}: each pytest-xdist worker's own database


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Under `migrator compat --workers N` each pytest-xdist worker runs on its own copy of the cell's database:
    its variables are set before any conftest imports the app (settings are read at import)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    table = os.environ.get(WORKER_ENV)
    if not worker or not table:
        return
    try:
        mine = json.loads(table).get(worker)
    except ValueError:
        mine = None
    if isinstance(mine, dict):
        os.environ.update({str(k): str(v) for k, v in mine.items()})


def url_var() -> str:
    """The name of the environment variable that holds the database URL."""
    return os.environ.get(URL_VAR_ENV) or DEFAULT_URL_VAR


def _safe(url: str) -> str:
    """The URL for the report header, password hidden in any form (migrator.db.urls), its driver kept."""
    try:
        from migrator.db.urls import DatabaseURL

        parsed = DatabaseURL.parse(url)
        return parsed.url(parsed.driver, hide_password=True)
    except Exception:  # noqa: BLE001 - never show what could not be read
        return "<database url>"


def pytest_configure(config):
    config.addinivalue_line("markers", f"{CONTRACTED_MARKER}: checks the contracted schema itself; under migrator "
                                       "compat it runs only in the green/contracted cell")


def pytest_collection_modifyitems(config, items):
    cell = os.environ.get(CELL_ENV)
    if not cell:
        return
    keep, drop = [], []
    for item in items:
        contracted_only = item.get_closest_marker(CONTRACTED_MARKER) is not None
        (drop if contracted_only and cell != "green/contracted" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    report = os.environ.get(CELL_REPORT_ENV)
    if report:
        try:
            with open(report, "w", encoding="utf-8") as out:
                json.dump({"cell": cell, "deselected": len(drop)}, out)
        except OSError:
            pass


def pytest_report_header(config):
    var = url_var()
    url = os.environ.get(var, "").strip()
    return f"migrator: database from {var}: {_safe(url)}" if url else None


@pytest.fixture(scope="session")
def database_url() -> str:
    """The database URL from the environment; skips the test when it is unset."""
    var = url_var()
    url = os.environ.get(var, "").strip()
    if not url:
        pytest.skip(f"{var} is not set: run this suite with `migrator compat`, or set {var} to a PostgreSQL URL")
    return url


def _with_driver(url: str):
    """A sqlalchemy URL; a plain postgresql:// / postgres:// URL gets psycopg 3 when it is installed
    (SQLAlchemy would otherwise pick psycopg2)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        import importlib.util

        if importlib.util.find_spec("psycopg") is not None:
            parsed = parsed.set(drivername="postgresql+psycopg")
        elif parsed.drivername == "postgres":
            parsed = parsed.set(drivername="postgresql")
    return parsed


@pytest.fixture(scope="session")
def db_engine(database_url):
    """A SQLAlchemy engine on `database_url`, disposed when the session ends."""
    from sqlalchemy import create_engine

    engine = create_engine(_with_driver(database_url))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def db_connection(db_engine):
    """A connection in a transaction that is rolled back after the test."""
    with db_engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                transaction.rollback()
