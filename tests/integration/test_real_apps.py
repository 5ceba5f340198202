"""`migrator compat` on the real-looking fixture apps (tests/apps): every release gives its answer from one
command, as a new user runs it, with both installs:

- migrator in its own venv (this one), the app's code in the app's venv (found as <project>/.venv);
- migrator installed into the app's venv (app_python(..., with_migrator=True)), nothing else.

No PYTHONPATH tricks, nothing installed into migrator's venv. Real git, real PostgreSQL, real suites.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests import _server
from tests._cli import migrator_command
from tests.apps import APPS, app_python, build_app

pytestmark = [pytest.mark.usefixtures("pg_server"), pytest.mark.slow]

ADMIN = _server.ADMIN_URL  # the test server (MIGRATOR_TEST_URL, tests/conftest.py)
SCRATCH = _server.url("postgres", password="scratch-pw")  # trust auth: any password; the app needs one
TIMEOUT = 600
NO_SAFE_ORDER = "this release has no safe blue-green order"


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    """Each app's repository, with the app's own venv at <project>/.venv as a developer has it."""
    made = {}

    def get(name: str):
        if name not in made:
            app = build_app(name, tmp_path_factory.mktemp(f"app-{name}"))
            venv = Path(app_python(name)).parent.parent
            (app.project / ".venv").symlink_to(venv, target_is_directory=True)
            made[name] = app
        return made[name]
    return get


def environment(tmpdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MIGRATOR_", "PYTEST_", "VIRTUAL_ENV")) and k not in ("DATABASE_URL",)}
    env.update(NO_COLOR="1", TMPDIR=str(tmpdir))
    return env


def run_compat(command: list[str], app, release, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    evidence = tmp_path / "evidence.json"
    args = [*command, "compat", "--blue", release.blue, "--green", release.green, "--project-dir", app.project_dir,
            "--scratch-url", SCRATCH, "--format", "json", "--evidence", str(evidence), *extra]
    proc = subprocess.run(args, cwd=app.repo, capture_output=True, text=True, timeout=TIMEOUT,
                          env=environment(tmp_path), stdin=subprocess.DEVNULL)
    report = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return proc, report


def _ours_left(pid: int) -> set[str]:
    import psycopg

    with psycopg.connect(ADMIN) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'migrator\\_%'")]
    return {n for n in names if f"_{pid}_" in n and not n.startswith("migrator_tpl_")} - _server.dropping()


def check_answer(release, proc, report) -> None:
    why = f"exit {proc.returncode}\n{proc.stderr[-4000:]}"
    assert "Traceback (most recent call last)" not in proc.stderr, why
    assert "scratch-pw" not in proc.stdout + proc.stderr, why
    if release.expect == "pass":
        assert proc.returncode == 0, why
        assert report["result"] == "pass" and {c["result"] for c in report["cells"]} == {"pass"}, why
        assert all(c["fingerprint_before"] == c["fingerprint_after"] for c in report["cells"]), why
    elif release.expect == "refused":
        assert proc.returncode == 1, why
        assert NO_SAFE_ORDER in report["reason"], why
        assert f"green needs the held-back contract revision {release.held_back[-1]}" in report["reason"] \
            or any(f"revision {rev}" in report["reason"] for rev in release.held_back), why
        green = report["cells"][1]
        assert green["result"] == "fail" and {f["attribution"] for f in green["failures"]} == {"incompatible"}, why
    elif release.expect == "blue-startup-migration":
        assert proc.returncode == 1, why
        reason = report["reason"]
        assert "blue cannot restart during the release" in reason and release.expanded in reason, why
        assert "green runs alembic migrations at start-up" in reason, why
        assert "changed the schema while it ran" in reason, why  # the hollow suite, reported too
    else:  # pragma: no cover - a new expectation needs its check here
        raise AssertionError(f"unknown expectation {release.expect!r}")


RELEASES = [(name, r.name) for name, spec in APPS.items() for r in spec.releases]


@pytest.mark.parametrize("app_name, release_name", RELEASES, ids=[f"{a}-{r}" for a, r in RELEASES])
def test_every_release_gives_its_answer(repos, tmp_path, app_name, release_name):
    """Install 1: migrator in its own venv; the app's code and suites run in the app's <project>/.venv."""
    app = repos(app_name)
    release = app.release(release_name)
    proc, report = run_compat(migrator_command(), app, release, tmp_path)
    check_answer(release, proc, report)
    assert f"project code runs in {app.project / '.venv' / 'bin' / 'python'}" in proc.stderr, proc.stderr[-2000:]


INSTALLED = [("fastapi", "nullable-column"), ("fastapi", "uuid-ids"), ("flask", "widen-and-drop"),
             ("flask", "widen-and-drop-fixed"), ("asyncpg", "nullable-column")]


@pytest.mark.parametrize("app_name, release_name", INSTALLED, ids=[f"{a}-{r}" for a, r in INSTALLED])
def test_migrator_installed_in_the_apps_venv(tmp_path_factory, tmp_path, app_name, release_name):
    """Install 2: migrator inside the app's own venv (the app's pins win: SQLAlchemy 1.4 and alembic 1.7 for
    flask), run from there, with no other venv around."""
    python = app_python(app_name, with_migrator=True)
    app = build_app(app_name, tmp_path_factory.mktemp(f"installed-{app_name}"))
    release = app.release(release_name)
    proc, report = run_compat([str(Path(python).with_name("migrator"))], app, release, tmp_path)
    check_answer(release, proc, report)
    assert "(migrator's own interpreter)" in proc.stderr, proc.stderr[-2000:]
    assert _ours_left(os.getpid()) == set()


def test_a_settings_mistake_is_an_environment_error(repos, tmp_path):
    """A scratch URL without a password gives POSTGRES_PASSWORD="", which the app's settings treat as missing:
    the app cannot start. That says nothing about the release: exit 2, naming the setting, no verdict."""
    app = repos("fastapi")
    release = app.release("nullable-column")
    proc = subprocess.run([*migrator_command(), "compat", "--blue", release.blue, "--green", release.green,
                           "--project-dir", "backend", "--scratch-url", ADMIN], cwd=app.repo, capture_output=True,
                          text=True, timeout=TIMEOUT, env=environment(tmp_path), stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("migrator: ") and "POSTGRES_PASSWORD" in last and "ValidationError" in last, last
    assert proc.stdout == ""


def test_flask_migrate_without_the_app_factory_says_what_to_configure(repos, tmp_path):
    app = repos("flask")
    pyproject = app.repo / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text("\n".join(line for line in original.splitlines() if not line.startswith("app = ")) + "\n")
    try:
        proc = subprocess.run([*migrator_command(), "classify", "--alembic-config", "migrations/alembic.ini"],
                              cwd=app.repo, capture_output=True, text=True, timeout=TIMEOUT,
                              env=environment(tmp_path), stdin=subprocess.DEVNULL)
    finally:
        pyproject.write_text(original)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "application context" in proc.stderr and "[tool.migrator] app" in proc.stderr, proc.stderr[-2000:]


@pytest.mark.parametrize("app_name, config", [("fastapi", "alembic.ini"), ("flask", "migrations/alembic.ini"),
                                               ("asyncpg", "alembic.ini")])
def test_classify_reads_the_app_in_its_own_interpreter(repos, tmp_path, app_name, config):
    """classify --alembic-config renders the revisions in the app's venv (sqlmodel, Flask-Migrate's env.py, an
    async env.py): migrator's venv has none of them."""
    app = repos(app_name)
    proc = subprocess.run([*migrator_command(), "classify", "--alembic-config", config, "--format", "json"],
                          cwd=app.project, capture_output=True, text=True, timeout=TIMEOUT,
                          env=environment(tmp_path), stdin=subprocess.DEVNULL)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: findings at error level, fine here
    report = json.loads(proc.stdout)
    assert report["migrations"] and all(m["revision"] for m in report["migrations"])
    lines = [s["line"] for m in report["migrations"] for s in m["statements"]]
    assert lines and all(line > 1 for line in lines)  # at the op.* call in the revision file


# --- a whole release of a real app: compat on the scratch server, then every phase on the target ----------------

STARTUP = ("import sys; from app import create_app; "
           "create_app(check_schema_on_start=True); print('started')")


def _start_app(app_name: str, checkout: Path, url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Start the app as a deployment does (its factory with the start-up check), in its venv with migrator."""
    env = environment(tmp_path) | {"DATABASE_URL": url.replace("+psycopg", "")}
    return subprocess.run([str(app_python(app_name, with_migrator=True)), "-c", STARTUP], cwd=checkout,
                          capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)


def test_flask_release_through_every_phase(repos, tmp_path):
    """The fixed Flask release (v1.1 -> v2.1) as a pipeline runs it: compat --full on the scratch server, then plan,
    expand, migrate, switch, contract on the target with the evidence; blue's and green's start-up checks
    (migrator.startup) let each start exactly while the release says it may."""
    from tests.integration.test_release_commands import HOOK_SCRIPT, fresh_database, hook_calls, query

    app = repos("flask")
    release = app.release("widen-and-drop-fixed")
    evidence = tmp_path / "evidence.json"  
    proc, report = run_compat(migrator_command(), app, release, tmp_path, "--full")
    check_answer(release, proc, report)
    assert [c["schema"] for c in report["cells"]] == ["expanded", "expanded", "contracted"]

    ops = tmp_path / "ops"
    ops.mkdir()
    (ops / "router.py").write_text(HOOK_SCRIPT)
    config = ops / "release.toml"  # the app's own [tool.migrator...] tables plus the release's hook and settings
    own = (app.repo / "pyproject.toml").read_text().split("[tool.migrator]", 1)[1]
    config.write_text(f"[tool.migrator]{own}\n[tool.migrator.release]\nsoak = \"0\"\n\n[tool.migrator.hook]\n"
                      f"kind = \"command\"\ncommand = {json.dumps([os.sys.executable, str(ops / 'router.py'), str(ops / 'colour')])}\n")
    blue_dir = app.checkout(release.blue, tmp_path / "blue")
    green_dir = app.checkout(release.green, tmp_path / "green")
    with fresh_database(password=True) as (url, _):
        env = environment(tmp_path) | {"DATABASE_URL": url.replace("+psycopg", ""),
                                       "FLASK_APP": "app:create_app(migrate_on_start=False, check_schema_on_start=False)"}
        done = subprocess.run([str(app_python("flask")), "-m", "flask", "db", "upgrade"], cwd=blue_dir,
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr  # production is at blue's head, migrated by the app's own tooling
        assert "started" in _start_app("flask", blue_dir, url, tmp_path).stdout

        def migrator(*args: str, expect: int = 0) -> str:
            run = subprocess.run([*migrator_command(), *args, "--config", str(config)], cwd=green_dir,
                                 capture_output=True, text=True, timeout=TIMEOUT,
                                 env=environment(tmp_path) | {"MIGRATOR_DATABASE_URL": url,  # the pipeline's venv:
                                                              "VIRTUAL_ENV": str(Path(app_python("flask")).parents[1])})
            assert run.returncode == expect, f"{args}: exit {run.returncode}\n{run.stderr[-3000:]}"
            assert "pw-" not in run.stdout + run.stderr
            return run.stdout + run.stderr

        migrator("plan", "--blue", release.blue)
        migrator("expand", "--evidence", str(evidence))
        assert query(url, "SELECT character_maximum_length FROM information_schema.columns "
                          "WHERE table_name = 'users' AND column_name = 'username'") == [(256,)]
        # blue pods restart during the release: blue's start-up check lets them (the evidence proves blue there)
        restarted = _start_app("flask", blue_dir, url, tmp_path)
        assert restarted.returncode == 0 and "started" in restarted.stdout, restarted.stderr[-2000:]
        migrator("migrate")
        migrator("switch", "--to", "green", "--evidence", str(evidence))
        assert (ops / "colour").read_text() == "green"
        green_start = _start_app("flask", green_dir, url, tmp_path)
        assert green_start.returncode == 0 and "started" in green_start.stdout, green_start.stderr[-2000:]
        migrator("contract", "--evidence", str(evidence))
        assert query(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                          "AND column_name = 'legacy_flag'") == [(0,)]
        # blue's schema is gone: a blue pod must not start any more, and says why
        late = _start_app("flask", blue_dir, url, tmp_path)
        assert late.returncode != 0 and "blue's schema is gone" in late.stderr, late.stderr[-2000:]
        status = migrator("status", "--format", "json")
        assert '"state": "contracted"' in status
        assert [c["payload"]["action"] for c in hook_calls(ops) if c["payload"]["action"] == "switch"] == ["switch"]


def test_compat_refuses_the_release_target_as_scratch_server(repos, tmp_path):
    """In a release pipeline MIGRATOR_DATABASE_URL names production: compat never makes its databases there."""
    app = repos("asyncpg")
    release = app.release("nullable-column")
    env = environment(tmp_path) | {"MIGRATOR_DATABASE_URL": "postgresql://postgres:prod-pw@localhost:5432/app"}
    run = subprocess.run([*migrator_command(), "compat", "--blue", release.blue, "--green", release.green,
                          "--scratch-url", SCRATCH], cwd=app.repo, capture_output=True, text=True, timeout=TIMEOUT,
                         env=env, stdin=subprocess.DEVNULL)
    assert run.returncode == 2, run.stderr[-2000:]
    last = run.stderr.strip().splitlines()[-1]
    assert "is the release's target server" in last and "prod-pw" not in run.stderr, last
    assert _ours_left(run.pid if hasattr(run, "pid") else 0) == set()


def test_an_asyncpg_only_app_is_expanded_through_its_own_driver(repos, tmp_path):
    """The release's revisions run in the app's interpreter, where asyncpg is the only driver: the applier's
    connection goes through SQLAlchemy's async engine (run_sync), the ledger row in the revision's transaction."""
    from tests.integration.test_release_commands import fresh_database, query

    app = repos("asyncpg")
    release = app.release("nullable-column")
    proc, report = run_compat(migrator_command(), app, release, tmp_path)
    check_answer(release, proc, report)
    blue_dir = app.checkout(release.blue, tmp_path / "blue")
    green_dir = app.checkout(release.green, tmp_path / "green")
    venv = Path(app_python("asyncpg")).parents[1]
    with fresh_database() as (url, _):
        env = environment(tmp_path) | {"DATABASE_URL": url.replace("+psycopg", "+asyncpg")}
        done = subprocess.run([str(venv / "bin" / "python"), "-m", "alembic", "upgrade", "head"], cwd=blue_dir,
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr

        def migrator(*args: str) -> None:
            run = subprocess.run([*migrator_command(), *args], cwd=green_dir, capture_output=True, text=True,
                                 timeout=TIMEOUT, env=environment(tmp_path) | {"MIGRATOR_DATABASE_URL": url,
                                                                              "VIRTUAL_ENV": str(venv)})
            assert run.returncode == 0, f"{args}: exit {run.returncode}\n{run.stderr[-3000:]}"

        migrator("plan", "--blue", release.blue)
        migrator("expand", "--evidence", str(tmp_path / "evidence.json"))
        assert query(url, "SELECT version_num FROM alembic_version") == [(release.expanded,)]
        assert query(url, "SELECT revision, phase FROM migrator.applied") == [(release.expanded, "expand")]
        sessions = query(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'migrator apply%%' "
                         "AND datname = current_database()")
        assert sessions == [(0,)]
