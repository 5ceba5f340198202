"""Ground truth of the fixture apps (tests/apps), checked with plain tools, without migrator.

Each release is run as a user would: a `git worktree` of the tag, the app's own venv, `alembic` (or
`flask db`) and `pytest` with the environment the app's [tool.migrator] config gives it, against a
throwaway database on the local PostgreSQL:
- expanded schema (blue's head + green's revisions up to `release.expanded`): blue's suite passes; green's
  suite passes (its migrator_contracted tests deselected) unless the release is expected to be refused;
- green's fully migrated schema: green's whole suite passes, nothing skipped.
"""

from __future__ import annotations

import os
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests._compat import Databases, dbs  # noqa: F401  (fixture)
from tests.apps import APPS, FixtureApp, app_python, build_app
from tests.apps._builder import git
from tests.apps._venvs import MIGRATOR_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

HOST, PORT, USER = "127.0.0.1", "5432", "postgres"
NOT_CONTRACTED = ("-m", "not migrator_contracted")


# -- how a user runs each app ------------------------------------------------------------------------------

def app_env(app: str, database: str) -> dict[str, str]:
    """The variables the app's [tool.migrator.compat] config gives it, for `database`."""
    if app == "fastapi":
        # trust auth: any password works, and an empty one would fail the app's settings (env_ignore_empty)
        return {"POSTGRES_SERVER": HOST, "POSTGRES_PORT": PORT, "POSTGRES_USER": USER,
                "POSTGRES_PASSWORD": "unused-with-trust-auth", "POSTGRES_DB": database,
                "SECRET_KEY": "test-secret-key"}
    if app == "flask":
        return {"DATABASE_URL": f"postgresql://{USER}@{HOST}:{PORT}/{database}",
                "FLASK_APP": "app:create_app(migrate_on_start=False)"}
    if app == "asyncpg":
        return {"DATABASE_URL": f"postgresql+asyncpg://{USER}@{HOST}:{PORT}/{database}"}
    raise KeyError(app)


SUITES = {"fastapi": "app/tests", "flask": "tests", "asyncpg": "tests"}


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without this venv, migrator's variables or a database URL, plus `extra`."""
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DATABASE_URL", "PYTEST_ADDOPTS", "FLASK_APP"}
    env = {k: v for k, v in os.environ.items()
           if k not in dropped and not k.startswith(("MIGRATOR_", "POSTGRES_", "PYTEST_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=clean_env(env), capture_output=True, text=True, timeout=timeout)


def upgrade(app: str, project: Path, database: str, target: str = "head") -> None:
    python = str(app_python(app))
    if app == "flask":
        command = [python, "-m", "flask", "db", "upgrade", target]
    else:
        command = [python, "-m", "alembic", "upgrade", target]
    done = run(command, project, app_env(app, database))
    assert done.returncode == 0, f"{' '.join(command[1:])} in {project} failed:\n{done.stdout}\n{done.stderr}"


@dataclass
class SuiteRun:
    returncode: int
    tests: int
    failed: int
    errors: int
    skipped: int
    output: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and self.tests > 0 and self.failed == 0 and self.errors == 0

    def __str__(self) -> str:
        return (f"exit {self.returncode}: {self.tests} tests, {self.failed} failed, {self.errors} errors, "
                f"{self.skipped} skipped\n{self.output[-3000:]}")


def run_suite(app: str, project: Path, database: str, *args: str, python: Path | None = None) -> SuiteRun:
    junit = project / f".junit-{time.monotonic_ns()}.xml"
    command = [str(python or app_python(app)), "-m", "pytest", SUITES[app], "-p", "no:cacheprovider", "-q",
               "--tb=short", f"--junitxml={junit}", *args]
    done = run(command, project, app_env(app, database))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if junit.exists():
        root = ET.parse(junit).getroot()
        suites = [root] if root.tag == "testsuite" else list(root)
        for suite in suites:
            for key in counts:
                counts[key] += int(suite.get(key, 0))
        junit.unlink()
    return SuiteRun(done.returncode, counts["tests"], counts["failures"], counts["errors"], counts["skipped"],
                    done.stdout + done.stderr)


# -- fixtures ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> dict[str, FixtureApp]:
    root = tmp_path_factory.mktemp("apps")
    return {name: build_app(name, root) for name in APPS}


class Checkouts:
    """Worktrees of an app's tags, one per tag, removed at the end of the module."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: dict[tuple[str, str], Path] = {}

    def __call__(self, app: FixtureApp, tag: str) -> Path:
        key = (app.name, tag)
        if key not in self.made:
            self.made[key] = app.checkout(tag, self.root / f"{app.name}-{tag}")
        return self.made[key]


@pytest.fixture(scope="module")
def checkout(apps, tmp_path_factory):
    checkouts = Checkouts(tmp_path_factory.mktemp("worktrees"))
    yield checkouts
    for app_name, tag in checkouts.made:
        git(apps[app_name].repo, "worktree", "remove", "--force", str(checkouts.root / f"{app_name}-{tag}"))


RELEASES = [pytest.param(app.name, r.name, id=f"{app.name}-{r.name}")
            for app in APPS.values() for r in app.releases]


# -- the ground truth of every release ---------------------------------------------------------------------

@pytest.mark.parametrize("app_name, release_name", RELEASES)
def test_release_ground_truth(app_name, release_name, apps, checkout, dbs):
    app = apps[app_name]
    release = app.release(release_name)
    blue, green = checkout(app, release.blue), checkout(app, release.green)

    expanded = dbs.create()
    upgrade(app_name, blue, expanded, "head")
    upgrade(app_name, green, expanded, release.expanded)
    assert version_of(dbs, expanded) == [release.expanded]

    blue_run = run_suite(app_name, blue, expanded)
    green_expanded = run_suite(app_name, green, expanded, *NOT_CONTRACTED)

    full = dbs.create()
    upgrade(app_name, green, full, "head")
    green_full = run_suite(app_name, green, full)

    if release.expect == "blue-startup-migration":
        assert not blue_run.passed and "Can't locate revision" in blue_run.output, blue_run
    else:
        assert blue_run.passed, f"blue {release.blue} on the expanded schema: {blue_run}"
    if release.expect == "refused":
        assert not green_expanded.passed, f"green {release.green} on the expanded schema: {green_expanded}"
    else:
        assert green_expanded.passed, f"green {release.green} on the expanded schema: {green_expanded}"
    assert green_full.passed and green_full.skipped == 0, f"green {release.green}, fully migrated: {green_full}"
    assert green_full.tests > green_expanded.tests or not has_contracted_tests(green), \
        "the migrator_contracted tests ran on the fully migrated schema only"


def version_of(dbs: Databases, database: str) -> list[str]:
    return sorted(r[0] for r in dbs.query(database, "SELECT version_num FROM alembic_version"))


def has_contracted_tests(project: Path) -> bool:
    return any("pytest.mark.migrator_contracted" in p.read_text() for p in project.rglob("test_*.py"))
