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
from tests import _server
from tests.apps._venvs import MIGRATOR_ROOT

pytestmark = pytest.mark.slow

HOST, PORT, USER = _server.HOST, str(_server.PORT), _server.USER  # the test server (tests/conftest.py)
NOT_CONTRACTED = ("-m", "not migrator_contracted")


# -- how a user runs each app ------------------------------------------------------------------------------

def app_env(app: str, database: str, project: Path) -> dict[str, str]:
    """The variables the app's [tool.migrator.compat] config gives it, for `database`; for Flask-Migrate
    also FLASK_APP (the config's `app`) as the app's README says to run `flask db`."""
    if app == "fastapi":
        # trust auth: any password works, and an empty one would fail the app's settings (env_ignore_empty)
        return {"POSTGRES_SERVER": HOST, "POSTGRES_PORT": PORT, "POSTGRES_USER": USER,
                "POSTGRES_PASSWORD": "unused-with-trust-auth", "POSTGRES_DB": database,
                "SECRET_KEY": "test-secret-key"}
    if app == "flask":
        fixed = "check_schema_on_start" in (project / "app" / "__init__.py").read_text()  # v1.1 and later
        factory = "create_app(migrate_on_start=False, check_schema_on_start=False)" if fixed else \
            "create_app(migrate_on_start=False)"
        return {"DATABASE_URL": f"postgresql://{USER}@{HOST}:{PORT}/{database}", "FLASK_APP": f"app:{factory}"}
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
    done = run(command, project, app_env(app, database, project))
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
    done = run(command, project, app_env(app, database, project))
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

@pytest.mark.usefixtures("pg_server")
@pytest.mark.parametrize("app_name, release_name", RELEASES)
def test_release_ground_truth(app_name, release_name, apps, checkout, dbs):
    app = apps[app_name]
    release = app.release(release_name)
    blue, green = checkout(app, release.blue), checkout(app, release.green)

    expanded = dbs.create()
    upgrade(app_name, blue, expanded, "head")
    upgrade(app_name, green, expanded, release.expanded)
    assert version_of(dbs, expanded) == [release.expanded]

    # a run expected to fail stops at its first failure (-x): the verdict is the same, and much faster
    blue_run = run_suite(app_name, blue, expanded, *(["-x"] if release.expect == "blue-startup-migration" else []))
    green_expanded = run_suite(app_name, green, expanded, *NOT_CONTRACTED,
                               *(["-x"] if release.expect == "refused" else []))

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


# -- the repositories --------------------------------------------------------------------------------------

def test_built_repository_is_a_developers_clone(tmp_path):
    for name, spec in APPS.items():
        app = build_app(name, tmp_path)
        main_tags = [v.tag for v in spec.versions if v.branch == "main"]
        assert git(app.repo, "describe", "--tags", "--exact-match", "HEAD").strip() == main_tags[-1]
        assert git(app.repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
        assert git(app.repo, "status", "--porcelain") == ""
        assert sorted(git(app.repo, "tag").split()) == sorted(v.tag for v in spec.versions)
        assert git(app.repo, "rev-list", "--count", "--merges", "main").strip() == "0"  # linear
        assert int(git(app.repo, "rev-list", "--count", "main")) == len(main_tags)
        assert (app.project / "pyproject.toml").is_file() and (app.repo / ".gitignore").is_file()
        ignored = (app.repo / ".gitignore").read_text().split()
        assert {".venv/", ".env", "__pycache__/"} <= set(ignored)
        tracked = git(app.repo, "ls-files").split()
        assert not [f for f in tracked if f.endswith((".env", ".pyc")) or "/.git/" in f or f.startswith(".git/")]
        authors = set(git(app.repo, "log", "--all", "--format=%an <%ae> %ad %cd", "--date=unix").splitlines())
        assert all(a.startswith("Dana Developer <dana@example.com>") for a in authors)
    fastapi = build_app("fastapi", tmp_path / "again")
    assert fastapi.project_dir == "backend"
    assert git(fastapi.repo, "rev-parse", "v5") == git(build_app("fastapi", tmp_path / "third").repo, "rev-parse", "v5")


def test_releases_name_revisions_of_their_green(apps):
    for app in apps.values():
        for release in app.releases:
            green_files = git(app.repo, "ls-tree", "-r", "--name-only", release.green).split()
            blue_files = git(app.repo, "ls-tree", "-r", "--name-only", release.blue).split()
            for revision in (release.expanded, *release.held_back):
                assert any(f.endswith(".py") and f"/{revision}_" in f for f in green_files), (release, revision)
            for revision in release.held_back:
                assert not any(f"/{revision}_" in f for f in blue_files), (release, revision)


# -- the venvs ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("app_name", sorted(APPS))
def test_app_venv_has_only_what_the_app_pins(app_name):
    python = app_python(app_name)
    probe = ("import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None for m in "
             "['migrator', 'sqlglot', 'typer', 'rich', 'psycopg', 'psycopg2', 'asyncpg', 'pytest']}))")
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd="/", env=clean_env({}))
    import json

    found = json.loads(done.stdout)
    assert not found["migrator"] and not found["sqlglot"] and not found["typer"] and not found["rich"], found
    assert found["pytest"]
    drivers = {"fastapi": {"psycopg"}, "flask": {"psycopg2"}, "asyncpg": {"asyncpg"}}[app_name]
    assert {d for d in ("psycopg", "psycopg2", "asyncpg") if found[d]} == drivers
    failed = subprocess.run([str(python), "-c", "import migrator"], capture_output=True, text=True, cwd="/",
                            env=clean_env({}))
    assert failed.returncode != 0 and "No module named 'migrator'" in failed.stderr


@pytest.mark.parametrize("app_name", sorted(APPS))
def test_venv_with_migrator_keeps_the_apps_pins(app_name):
    python = app_python(app_name, with_migrator=True)
    probe = "import migrator, sqlalchemy, alembic, pytest; print(sqlalchemy.__version__, alembic.__version__, pytest.__version__, migrator.__file__)"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd="/", env=clean_env({}))
    assert done.returncode == 0, done.stderr
    sa_version, alembic_version, pytest_version, migrator_file = done.stdout.split()
    pins = dict(line.split("==") for line in (app_python_requirements(app_name)) if "==" in line)
    assert (sa_version, alembic_version, pytest_version) == (pins["SQLAlchemy"], pins["alembic"], pins["pytest"])
    assert Path(migrator_file).resolve().is_relative_to(MIGRATOR_ROOT / "migrator")


def app_python_requirements(app_name: str) -> list[str]:
    from tests.apps._builder import overlay_dir

    spec = APPS[app_name]
    lines = []
    for rel in spec.requirements:
        lines += (overlay_dir(app_name, spec.versions[0].overlays[0]) / rel).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


# -- the apps' traits --------------------------------------------------------------------------------------

def test_fastapi_app_is_importable_only_from_backend(apps):
    app = apps["fastapi"]
    python = str(app_python("fastapi"))
    env = app_env("fastapi", "unused", app.project)
    from_root = run([python, "-c", "import app.models"], app.repo, env)
    assert from_root.returncode != 0 and "No module named 'app'" in from_root.stderr
    from_backend = run([python, "-c", "import app.main"], app.project, env)
    assert from_backend.returncode == 0, from_backend.stderr
    # the settings mistake: a URL without a password gives POSTGRES_PASSWORD="", which env_ignore_empty drops
    empty_password = run([python, "-c", "import app.core.config"], app.project, {**env, "POSTGRES_PASSWORD": ""})
    assert empty_password.returncode != 0
    assert "ValidationError" in empty_password.stderr and "POSTGRES_PASSWORD" in empty_password.stderr


@pytest.mark.usefixtures("pg_server")
def test_flask_blue_cannot_start_on_greens_revision(apps, checkout, dbs):
    app = apps["flask"]
    blue, green = checkout(app, "v1"), checkout(app, "v2")
    database = dbs.create()
    upgrade("flask", blue, database, "head")
    started = run([str(app_python("flask")), "-c", "from app import create_app; create_app()"], blue,
                  app_env("flask", database, blue))
    assert started.returncode == 0, started.stderr
    upgrade("flask", green, database, app.release("widen-and-drop").expanded)
    restarted = run([str(app_python("flask")), "-c", "from app import create_app; create_app()"], blue,
                    app_env("flask", database, blue))
    assert restarted.returncode != 0
    assert "Can't locate revision identified by '4c5d6e7f8091'" in restarted.stderr


@pytest.mark.usefixtures("pg_server")
@pytest.mark.parametrize("tag, keeps_schema", [("v1", False), ("v1.1", True)])
def test_flask_suite_and_the_schema_under_test(tag, keeps_schema, apps, checkout, dbs):
    app = apps["flask"]
    project = checkout(app, tag)
    database = dbs.create()
    upgrade("flask", project, database, "head")
    before = tables(dbs, database)
    assert {"users", "posts", "alembic_version"} <= before
    result = run_suite("flask", project, database)
    assert result.passed, result
    after = tables(dbs, database)
    if keeps_schema:
        assert after == before
        assert dbs.query(database, "SELECT count(*) FROM users") == [(0,)]  # rows cleaned
    else:
        assert after == {"alembic_version"}  # drop_all() after the last test: the migrated schema is gone


def tables(dbs: Databases, database: str) -> set[str]:
    return {r[0] for r in dbs.query(database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


@pytest.mark.usefixtures("pg_server")
def test_asyncpg_blue_fails_where_the_not_null_column_is_applied(apps, checkout, dbs):
    app = apps["asyncpg"]
    release = app.release("not-null-column")
    blue, green = checkout(app, release.blue), checkout(app, release.green)
    database = dbs.create()
    upgrade("asyncpg", blue, database, "head")
    upgrade("asyncpg", green, database, "head")  # on an empty table the revision itself succeeds
    result = run_suite("asyncpg", blue, database)
    assert not result.passed and result.tests > 0
    assert 'null value in column "author"' in result.output, result


@pytest.mark.usefixtures("pg_server")
def test_flask_fixed_app_checks_the_schema_at_start_up(apps, checkout, dbs):
    """v1.1 calls migrator.startup.check_schema at start-up. migrator cannot be installed into this app's venv
    yet (see SA14_CONFLICT), so migrator's checkout is put on the path, as migrator does for code it runs."""
    app = apps["flask"]
    release = app.release("widen-and-drop-fixed")
    blue, green = checkout(app, release.blue), checkout(app, release.green)
    start = [str(app_python("flask")), "-c", "from app import create_app; create_app()"]
    database = dbs.create()

    def env(**extra):
        return {**app_env("flask", database, blue), "PYTHONPATH": str(MIGRATOR_ROOT), **extra}

    upgrade("flask", blue, database, "head")
    at_head = run(start, blue, env())
    assert at_head.returncode == 0, at_head.stderr
    upgrade("flask", green, database, release.expanded)
    no_release = run(start, blue, env())  # no release in flight: nothing proves blue runs on green's revision
    assert no_release.returncode != 0 and "SchemaNotReady" in no_release.stderr, no_release.stderr
    under_runner = run(start, blue, env(MIGRATOR_RUNNER="1"))
    assert under_runner.returncode == 0, under_runner.stderr
    without_migrator = run(start, blue, {**app_env("flask", database, blue)})
    assert without_migrator.returncode != 0 and "No module named 'migrator'" in without_migrator.stderr
