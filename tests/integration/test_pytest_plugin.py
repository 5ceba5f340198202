"""migrator.pytest_plugin: the fixtures compat suites use, run through pytester against a real database.

The plugin is loaded by its `pytest11` entry point (migrator is installed in this environment), exactly as
in an app's suite run by `migrator compat`; no test module here loads it by hand.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from importlib.metadata import entry_points

# psycopg before pytester's in-process runs: they drop the modules first imported inside them (the report header
# parses URLs with psycopg), while psycopg's compiled half keeps the error classes of its first import
import psycopg.conninfo  # noqa: F401

import pytest

from migrator.provision import UrlProvider
from tests import _server

pytest_plugins = ["pytester"]

SERVER_URL = _server.ADMIN_URL  # the test server (MIGRATOR_TEST_URL, tests/conftest.py)



needs_server = pytest.mark.usefixtures("pg_server")  # tests/conftest.py


def query(url: str, sql: str):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else None


@pytest.fixture(scope="module")
def prefix():
    return f"mgplug{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def database(prefix):
    """One database with a `users` table for the module; dropped at the end, and proven gone."""
    with UrlProvider(SERVER_URL).start() as server:
        db = server.create_database(prefix)
        query(db.libpq_url, "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)")
        yield db
    assert query(SERVER_URL, f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%'") == []


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("DATABASE_URL", "MIGRATOR_URL_VAR", "APP_DB"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_registered_as_a_pytest11_entry_point():
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("migrator") == "migrator.pytest_plugin"


def test_skips_with_a_reason_when_the_url_is_unset(pytester, clean_env):
    pytester.makepyfile("""
        def test_url(database_url):
            pass

        def test_connection(db_connection):
            pass

        def test_no_database():
            pass
    """)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*DATABASE_URL is not set: run this suite with `migrator compat`, or set DATABASE_URL*"])


def test_url_variable_named_by_migrator(pytester, clean_env):
    clean_env.setenv("MIGRATOR_URL_VAR", "APP_DB")
    pytester.makepyfile("""
        import os

        def test_url(database_url):
            assert database_url == os.environ["APP_DB"] == "postgresql://u@h/db"
    """)
    pytester.runpytest("-rs").stdout.fnmatch_lines(["*APP_DB is not set*"])  # named in the reason
    clean_env.setenv("APP_DB", "postgresql://u@h/db")
    clean_env.setenv("DATABASE_URL", "postgresql://other@h/db")  # MIGRATOR_URL_VAR wins
    pytester.runpytest().assert_outcomes(passed=1)


def test_report_header_hides_the_password(pytester, clean_env):
    clean_env.setenv("DATABASE_URL", "postgresql+psycopg://app:hunter2@db.example:5432/app")
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["migrator: database from DATABASE_URL: postgresql+psycopg://app:***@db.example:5432/app"])
    assert "hunter2" not in result.stdout.str()


@pytest.mark.parametrize("url, shown", [
    ("postgresql://app@db.example:5432/app?password=hunter2", "postgresql://app:***@db.example:5432/app"),
    ("host=db.example port=5432 dbname=app user=app password=hunter2", "postgresql://app:***@db.example:5432/app"),
    ("postgresql://app@db.example:5432/app", "postgresql://app@db.example:5432/app"),
])
def test_report_header_hides_the_password_in_every_form(pytester, clean_env, url, shown):
    clean_env.setenv("DATABASE_URL", url)
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([f"migrator: database from DATABASE_URL: {shown}"])
    assert "hunter2" not in result.stdout.str()


@needs_server
@pytest.mark.usefixtures("pg_server")
@pytest.mark.parametrize("form", ["postgresql+psycopg", "postgresql"])
def test_connection_rolled_back_after_each_test_engine_shared(pytester, clean_env, database, form):
    clean_env.setenv("DATABASE_URL", database.render(form))
    pytester.makepyfile("""
        import pytest
        from sqlalchemy import text

        ENGINES = []

        def count(conn):
            return conn.execute(text("SELECT count(*) FROM users")).scalar()

        def test_insert(db_connection, db_engine):
            ENGINES.append(db_engine)
            db_connection.execute(text("INSERT INTO users (name) VALUES ('ada')"))
            assert count(db_connection) == 1

        def test_rolled_back(db_connection, db_engine):
            ENGINES.append(db_engine)
            assert count(db_connection) == 0

        def test_fails_after_writing(db_connection):
            db_connection.execute(text("INSERT INTO users (name) VALUES ('bob')"))
            raise AssertionError("boom")

        def test_sql_error_then_rollback(db_connection):
            with pytest.raises(Exception):
                db_connection.execute(text("SELECT no_such_column FROM users"))

        def test_still_empty(db_connection, db_engine, database_url):
            ENGINES.append(db_engine)
            assert count(db_connection) == 0
            assert len({id(e) for e in ENGINES}) == 1        # one engine for the session
            assert db_engine.dialect.driver == "psycopg"      # also for a plain postgresql:// URL
            assert db_engine.url.database == database_url.rsplit("/", 1)[1]
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, failed=1)
    assert query(database.libpq_url, "SELECT count(*) FROM users") == [(0,)]
    # the engine was disposed at the end of the session; a closed connection's backend exits a moment later
    deadline = time.monotonic() + 5
    while (sessions := query(SERVER_URL, f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database.name}'")
           ) != [(0,)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sessions == [(0,)]


@needs_server
@pytest.mark.usefixtures("pg_server")
def test_a_conftest_fixture_overrides_the_plugin(pytester, clean_env, database):
    clean_env.setenv("DATABASE_URL", "postgresql://nobody@invalid.invalid/none")
    pytester.makeconftest(f"""
        import pytest

        @pytest.fixture(scope="session")
        def database_url():
            return {database.url!r}
    """)
    pytester.makepyfile("""
        from sqlalchemy import text

        def test_uses_the_conftest_url(db_connection):
            assert db_connection.execute(text("SELECT current_database()")).scalar().startswith("mgplug")
    """)
    pytester.runpytest().assert_outcomes(passed=1)


@needs_server
@pytest.mark.usefixtures("pg_server")
def test_compat_style_suite_in_a_subprocess(tmp_path, database):
    """What `migrator compat` does: the app's suite, with no conftest, in its own pytest process; the env
    comes from render_env with a custom variable name. The plugin arrives through the entry point."""
    from migrator.runner.appenv import render_env
    from migrator.compat.suite import run_suite

    (tmp_path / "compat_tests").mkdir()
    (tmp_path / "compat_tests" / "test_users.py").write_text(
        "import os\n"
        "from sqlalchemy import text\n\n"
        "def test_insert_and_read(db_connection):\n"
        "    db_connection.execute(text(\"INSERT INTO users (name) VALUES ('ada')\"))\n"
        "    assert db_connection.execute(text('SELECT name FROM users')).scalar() == 'ada'\n\n"
        "def test_env(database_url):\n"
        "    assert database_url == os.environ['APP_DB']\n")
    env = render_env(database.url, url_var="APP_DB", url_form="postgresql")
    result = run_suite(tmp_path, "compat_tests", sys.executable, env, timeout=60, stream=None)
    assert result.ok and result.total == 2, result.output_tail
    assert query(database.libpq_url, "SELECT count(*) FROM users") == [(0,)]
