"""Fixtures every test folder shares (tests/unit, tests/integration, tests/cli).

- The test server: one variable, MIGRATOR_TEST_URL (tests/_server.py reads it; default
  postgresql://postgres@127.0.0.1:5432/postgres). `pg_server` (session) gives its admin URL, or skips the test
  when nothing answers there.
- `throwaway_db`: a new empty database with a name unique to the run and the xdist worker, dropped afterwards
  (by tests/_server.py's dropper: drops side by side share the server's checkpoints; the session's end waits for
  them all).
- Markers come from the fixtures: a test that uses `pg_server` (directly, through `throwaway_db` or through another
  fixture built on them) is marked `postgres`; `-m "not postgres"` deselects exactly the tests that need the server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from tests import _server

SERVER_URL = _server.ADMIN_URL  # the one name of the test server (MIGRATOR_TEST_URL)

# hypothesis's pytest plugin (installed here for tests/unit/test_fuzz.py) imports all of hypothesis when any pytest
# run in this venv ends: about 0.5 s of CPU. The suites the tests have compat run here (the demo's, the layouts')
# never use it, and there are hundreds of them: pytest processes started by the tests leave it out.
NO_HYPOTHESIS = "-p no:hypothesispytest"
if NO_HYPOTHESIS not in os.environ.get("PYTEST_ADDOPTS", ""):
    os.environ["PYTEST_ADDOPTS"] = f"{os.environ.get('PYTEST_ADDOPTS', '')} {NO_HYPOTHESIS}".strip()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the test PostgreSQL server; skips the test when the server does not answer."""
    reason = _server.unreachable()
    if reason:
        pytest.skip(reason)
    return SERVER_URL


@dataclass(frozen=True)
class Database:
    name: str

    @property
    def url(self) -> str:
        """libpq / psycopg URL."""
        return _server.url(self.name)

    @property
    def sa_url(self) -> str:
        """SQLAlchemy URL with psycopg 3."""
        return _server.url(self.name, driver="postgresql+psycopg")


@pytest.fixture
def throwaway_db(pg_server) -> Database:
    """A new empty database on the test server, dropped after the test whatever happened."""
    with _server.throwaway("migrator_t_", later=True) as name:
        yield Database(name)


def pytest_sessionfinish(session, exitstatus):
    """The databases handed to the dropper (tests/_server.py) are gone before this process ends; a drop that
    failed fails the run."""
    failed = _server.drain()
    if failed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("tests: could not drop " + "; ".join(failed), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config, items):
    postgres = pytest.mark.postgres
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(postgres)
