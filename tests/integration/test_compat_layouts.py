"""`migrator compat` on apps that are not laid out like the demo (issue 3, "Real apps ...").

Each test lays out a small app from tests/data/compat_layouts/ in a temporary git repository
(tags: blue = v1, green = v2 with an expand and a held-back contract revision, green-broken = v1 + an
expand revision whose trigger rejects blue's rows), then runs the real `migrator compat` command in a
subprocess with the url provider on the PostgreSQL at 127.0.0.1:5432:

  (a) the app in a subfolder (`--project-dir backend`, its own pyproject.toml, suite and url_var);
  (b) the suite in its own virtual environment (`--python`), proved by sys.prefix inside the suite;
  (c) the database as POSTGRES_SERVER/PORT/USER/PASSWORD/DB ([tool.migrator.compat.env_map]);
  (d) other settings the app needs to start (`--env KEY=VALUE` and [tool.migrator.compat.env]);
  (e) `--url-form postgresql` for an app on psycopg directly.

Good release: exit 0; broken release: exit 1 naming a failing test. Afterwards no database the check
made is left on the server and no worktree is left in the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import secrets
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests import _server
from tests._cli import migrator_command, outer_env

pytestmark = pytest.mark.usefixtures("pg_server")

DATA = Path(__file__).parents[1] / "data" / "compat_layouts"
REVISIONS = DATA / "revisions"
SERVER = _server.ADMIN_URL  # the test server (MIGRATOR_TEST_URL, tests/conftest.py)
URL_ENV = "MIGRATOR_SCRATCH_URL"
TIMEOUT = 180
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}
# variables of the outer environment that must not decide anything: compat sets its own
POISON = {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/poison", "POSTGRES_SERVER": "poison.invalid",
          "POSTGRES_PORT": "1", "POSTGRES_DB": "poison", "POSTGRES_USER": "poison"}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=True)
    return done.stdout.strip()


def _copy_revisions(app: Path, kind: str) -> None:
    versions = app / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    for path in sorted((REVISIONS / kind).glob("*.py")):
        shutil.copy(path, versions / path.name)


def make_app(root: Path, app: str, subdir: str = ".", extra: dict[str, str] | None = None) -> Path:
    """A git repository at `root` holding tests/data/compat_layouts/<app> in `subdir`, with tags blue,
    green and green-broken (branch main at green). Returns the repository root."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    folder = root / subdir
    shutil.copytree(DATA / app, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(DATA / "alembic.ini", folder / "alembic.ini")
    for name, text in (extra or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / ".gitignore").write_text("__pycache__/\n.venv*/\n", encoding="utf-8")
    _copy_revisions(folder, "blue")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "blue v1")
    git(root, "tag", "blue")
    _copy_revisions(folder, "green")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "green v2")
    git(root, "tag", "green")
    git(root, "checkout", "-q", "-b", "broken", "blue")
    _copy_revisions(folder, "broken")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "green v2, broken")
    git(root, "tag", "green-broken")
    git(root, "checkout", "-q", "main")
    return root


class Run:
    def __init__(self, proc: subprocess.CompletedProcess, evidence: Path):
        self.code, self.out, self.err = proc.returncode, proc.stdout, proc.stderr
        self.data = json.loads(self.out) if self.out.strip().startswith("{") else None
        self.evidence = json.loads(evidence.read_text()) if evidence.is_file() else None

    @property
    def why(self) -> str:  # the assertion message: a str, so that pytest shows it whole
        brief = ""
        if self.data:
            brief = f"result {self.data['result']}: {self.data['reason']}\n" + "".join(
                f"  {f['test']}: {f['error']}\n" for s in self.data["cells"] for f in s["failures"])
        return f"exit {self.code}\n{brief}--- stderr\n{self.err[-4000:]}"

    def suite(self, app: str = "blue") -> dict:
        """The cell of `app` on the expanded schema."""
        assert self.data is not None, self.why
        (cell,) = [c for c in self.data["cells"] if (c["app"], c["schema"]) == (app, "expanded")]
        return cell


def compat(repo: Path, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
           server_in_env: bool = False, unset: tuple[str, ...] = ()) -> Run:
    """`migrator compat --provider url ... --format json --evidence FILE ARGS`; the server is given with
    --database-url, or with MIGRATOR_DATABASE_URL when `server_in_env`."""
    evidence = repo.parent / f"evidence-{len(list(repo.parent.glob('evidence-*')))}.json"
    environment = outer_env("MIGRATOR_", "PYTEST_", drop=("FORCE_COLOR", "DATABASE_URL"))
    environment.update({"NO_COLOR": "1", **POISON, **(env or {})})
    for name in unset:
        environment.pop(name, None)
    server = []
    if server_in_env:
        environment[URL_ENV] = SERVER
    else:
        server = ["--database-url", SERVER]
    command = [*migrator_command(), "compat", "--provider", "url", *server, "--format", "json",
               "--evidence", str(evidence), *args]
    with subprocess.Popen(command, cwd=cwd or repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=environment, stdin=subprocess.DEVNULL) as proc:
        PIDS.append(proc.pid)
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    return Run(subprocess.CompletedProcess(command, proc.returncode, out, err), evidence)


PIDS: list[int] = []  # of the migrator processes started by the current test


def _databases_of(pids: list[int]) -> set[str]:
    """Databases named after one of our migrator processes (migrator_<kind>_<pid>_<random>): other test
    runs may share the server, so only ours count."""
    import psycopg

    with psycopg.connect(SERVER) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'migrator\\_%'")]
    return {n for n in names for pid in pids if f"_{pid}_" in n} - _server.dropping()  # not the tests' own


@pytest.fixture
def clean():
    """Nothing the checks made is left behind: no database named after our processes, no extra worktree."""
    PIDS.clear()
    repos: list[Path] = []
    yield repos
    assert _databases_of(PIDS) == set()
    for repo in repos:
        assert len(git(repo, "worktree", "list", "--porcelain").split("\n\n")) == 1


def assert_pass(run: Run, total: int) -> dict:
    assert run.code == 0, run.why
    suite = run.suite()
    assert (run.data["result"], suite["result"], suite["total"], suite["passed"]) == ("pass", "pass", total, total), run.why
    assert [(c["app"], c["result"]) for c in run.data["cells"]] == [("blue", "pass"), ("green", "pass")], run.why
    assert run.data["revisions"]["expand"] == ["0002"] and run.data["revisions"]["held_back"] == ["0003"], run.why
    assert run.evidence == run.data, run  # the evidence file is the JSON report
    return suite


def assert_caught(run: Run) -> dict:
    assert run.code == 1, run.why
    suite = run.suite()
    assert run.data["result"] == "fail" and suite["result"] == "fail" and suite["failed"] >= 1, run.why
    assert any("items.note is required" in f["error"] for f in suite["failures"]), run.why
    assert "compat fail" in run.err, run.why
    return suite


# -- (a) the app in a subfolder ---------------------------------------------------------------------------

ROOT_DECOY = """[tool.migrator.compat]
suite = "no_such_suite"
url_var = "WRONG_URL_VAR"
"""


def test_app_in_a_subfolder(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "subfolder_app", "backend", extra={"pyproject.toml": ROOT_DECOY})
    clean.append(repo)
    good = compat(repo, "--blue", "blue", "--green", "green", "--project-dir", "backend", server_in_env=True)
    suite = assert_pass(good, total=4)
    assert good.data["project_dir"] == "backend"
    assert all(not f for f in suite["failures"])
    broken = compat(repo, "--blue", "blue", "--green", "green-broken", "--project-dir", "backend")
    assert_caught(broken)
    failing = {f["test"] for f in broken.suite()["failures"]}
    assert "tests/compat/test_items.py::test_insert_and_read" in failing, broken.why


def test_app_in_a_subfolder_from_inside_it(tmp_path, clean):
    """Run from backend/ itself: `--project-dir .` means the current folder, and its pyproject.toml counts."""
    repo = make_app(tmp_path / "repo", "subfolder_app", "backend", extra={"pyproject.toml": ROOT_DECOY})
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", cwd=repo / "backend")
    assert_pass(run, total=4)
    assert run.data["project_dir"] == "backend", run.why


def test_app_in_a_subfolder_working_tree(tmp_path, clean):
    """Green = the working tree (no --green), the command run from the repository root."""
    repo = make_app(tmp_path / "repo", "subfolder_app", "backend", extra={"pyproject.toml": ROOT_DECOY})
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--project-dir", "backend")
    assert_pass(run, total=4)
    assert run.data["green"]["ref"] is None and run.data["green"]["dirty"] is False


def test_suite_as_a_node_id(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "subfolder_app", "backend")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", "--project-dir", "backend",
                 "--suite", "tests/compat/test_items.py::test_update")
    assert_pass(run, total=1)


def test_every_test_skipped_is_no_evidence(tmp_path, clean):
    """`--url-var ""` sets no URL variable: the plugin's fixtures skip every test. That proves nothing."""
    repo = make_app(tmp_path / "repo", "subfolder_app", "backend")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", "--project-dir", "backend", "--url-var", "",
                 unset=("DATABASE_URL",))
    assert run.code == 2, run.why  # nothing proven either way
    suite = run.suite()
    assert (suite["total"], suite["skipped"], suite["result"]) == (4, 4, "inconclusive"), run.why
    assert run.data["result"] == "inconclusive" and "all 4 were skipped" in run.data["reason"], run.why


def test_alembic_config_of_tool_migrator_is_used(tmp_path, clean):
    """alembic.ini elsewhere in the app, named by [tool.migrator] alembic_config (as classify/lint read it):
    compat finds it too, in blue's worktree as in green's."""
    root = tmp_path / "repo"
    repo = make_app(root, "subfolder_app", "backend")
    clean.append(repo)
    git(repo, "checkout", "-q", "-b", "db-move", "blue")
    backend = repo / "backend"
    (backend / "db").mkdir()
    ini = (backend / "alembic.ini").read_text().replace("%(here)s/migrations", "%(here)s/../migrations")
    (backend / "db" / "alembic.ini").write_text(ini)
    (backend / "alembic.ini").unlink()
    pyproject = backend / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.migrator]\n", '[tool.migrator]\nalembic_config = "db/alembic.ini"\n'))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "alembic.ini moves to db/")
    git(repo, "tag", "blue-db")
    run = compat(repo, "--blue", "blue-db", "--project-dir", "backend")  # green: the working tree, = blue-db
    assert run.code == 0, run.why
    assert run.suite()["passed"] == 4 and run.data["revisions"]["blue_heads"] == ["0001"], run.why


def test_subfolder_missing_at_blue_is_a_clear_error(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "subfolder_app", "backend")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", "--project-dir", "frontend")
    assert run.code == 2, run.why
    assert "frontend" in run.err and "Traceback" not in run.err, run.why


# -- (b) the suite in its own virtual environment ------------------------------------------------------------


def make_venv(path: Path) -> Path:
    """A virtual environment without downloads: --system-site-packages, plus this interpreter's
    site-packages when the base interpreter lacks what the suite needs; and a marker module that
    only this venv has."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(path)],
                   check=True, capture_output=True, timeout=120)
    python = path / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    probe = subprocess.run([str(python), "-c", "import pytest, sqlalchemy, psycopg"], capture_output=True)
    if probe.returncode != 0:  # the base interpreter is bare (CI's venv): borrow ours, read-only
        ours = sysconfig.get_paths()["purelib"]
        (site / "_borrowed.pth").write_text(f"import site; site.addsitedir({ours!r})\n", encoding="utf-8")
    (site / "compat_venv_marker.py").write_text("VENV = True\n", encoding="utf-8")
    return python


def test_suite_in_its_own_venv(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "venv_app")
    clean.append(repo)
    venv = tmp_path / "appvenv"
    python = make_venv(venv)
    # the check itself must not run under that venv: the suite does
    assert Path(sys.prefix).resolve() != venv.resolve()
    good = compat(repo, "--blue", "blue", "--green", "green", "--python", str(python),
                  "--env", f"EXPECTED_PREFIX={venv}")
    assert_pass(good, total=3)
    broken = compat(repo, "--blue", "blue", "--green", "green-broken", "--python", str(python),
                    "--env", f"EXPECTED_PREFIX={venv}")
    suite = assert_caught(broken)
    assert "compat_tests/test_items.py::test_runs_in_the_apps_venv" not in {f["test"] for f in suite["failures"]}


def test_suite_under_another_interpreter_is_noticed(tmp_path, clean):
    """The same suite run with the default interpreter fails its sys.prefix test: the check is real. The test
    fails on blue's own schema too, so it is the environment's problem, not the release's (exit 2)."""
    repo = make_app(tmp_path / "repo", "venv_app")
    clean.append(repo)
    venv = tmp_path / "appvenv"
    make_venv(venv)
    run = compat(repo, "--blue", "blue", "--green", "green", "--env", f"EXPECTED_PREFIX={venv}")
    assert run.code == 2, run.why
    failures = run.suite()["failures"]
    assert [f["test"] for f in failures] == ["compat_tests/test_items.py::test_runs_in_the_apps_venv"]
    assert failures[0]["attribution"] == "own-schema", run.why
    assert "fail on blue's own schema too" in run.data["reason"], run.why


def test_python_relative_to_the_app_in_config(tmp_path, clean):
    """`python = ".venv-compat/bin/python"` in backend/pyproject.toml is relative to backend/, wherever
    the command runs from."""
    repo = make_app(tmp_path / "repo", "venv_app", "backend")
    clean.append(repo)
    venv = repo / "backend" / ".venv-compat"
    make_venv(venv)
    pyproject = repo / "backend" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.migrator.compat]\npython = ".venv-compat/bin/python"\n')
    run = compat(repo, "--blue", "blue", "--green", "green", "--project-dir", "backend",
                 "--env", f"EXPECTED_PREFIX={venv}")
    assert_pass(run, total=3)


def test_python_missing_is_a_clear_error(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "venv_app")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", "--python", str(tmp_path / "nope" / "bin" / "python"))
    assert run.code == 2, run.why
    assert "python interpreter" in run.err and "Traceback" not in run.err, run.why


# -- (c) the database as separate variables --------------------------------------------------------------------


def test_database_from_separate_variables(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "vars_app")
    clean.append(repo)
    good = compat(repo, "--blue", "blue", "--green", "green")
    assert_pass(good, total=4)
    broken = compat(repo, "--blue", "blue", "--green", "green-broken")
    assert_caught(broken)


PASSWORD_ROLE = f"migrator_layouts_pw_{secrets.token_hex(4)}"  # roles are server-wide: a name of its own
PASSWORD = "s3cr3t/p@ss:word"
APP_SECRET = "app-secret-9d2e7"


@pytest.fixture
def password_url():
    """A server URL with a password (a role of its own; trust auth on 127.0.0.1 accepts any password, what
    matters is where it shows up). Every database that role owns is dropped afterwards."""
    import psycopg
    from urllib.parse import quote

    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {PASSWORD_ROLE}")
        conn.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'")
    try:
        yield f"postgresql://{PASSWORD_ROLE}:{quote(PASSWORD, safe='')}@{_server.HOSTPORT}/postgres"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            for (name,) in conn.execute("SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                                        "WHERE r.rolname = %s", (PASSWORD_ROLE,)).fetchall():
                conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f"DROP ROLE IF EXISTS {PASSWORD_ROLE}")


def _leaks(text: str) -> list[str]:
    from urllib.parse import quote

    return [s for s in (PASSWORD, quote(PASSWORD, safe=""), APP_SECRET) if s in text]


def test_separate_variables_with_a_password(tmp_path, clean, password_url):
    """The password reaches POSTGRES_PASSWORD; migrator's output and the evidence never show it."""
    repo = make_app(tmp_path / "repo", "vars_app")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", "--database-url", password_url)
    assert run.code == 0, run.why
    assert _leaks(run.out) == [] and _leaks(run.err) == [] and _leaks(json.dumps(run.evidence)) == []


def test_failure_quoting_the_password_is_scrubbed(tmp_path, clean, password_url):
    """A failing test whose message quotes the password, the URL and an --env secret: the report and the
    evidence show *** instead."""
    repo = make_app(tmp_path / "repo", "vars_app")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", "--database-url", password_url,
                 "--env", "LAYOUT_LEAK=1", "--env", f"APP_SECRET_KEY={APP_SECRET}")
    assert run.code == 2, run.why  # it fails on blue's own schema too: not the release's fault
    (failure,) = run.suite()["failures"]
    assert f"cannot log in as {PASSWORD_ROLE} with password ***" in failure["error"], run.why
    assert _leaks(run.out) == [] and _leaks(json.dumps(run.evidence)) == [], run.why


def test_suite_output_on_stderr_is_scrubbed(tmp_path, clean, password_url):
    repo = make_app(tmp_path / "repo", "vars_app")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", "--database-url", password_url, "--env", "LAYOUT_LEAK=1")
    assert run.code == 2, run.why
    assert _leaks(run.err) == []


def test_env_map_with_an_unknown_placeholder_is_a_usage_error(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "vars_app")
    clean.append(repo)
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"{host}"', '"{hostname}"'))
    run = compat(repo, "--blue", "blue", "--green", "green")
    assert run.code == 2, run.why
    assert "{hostname}" in run.err and "POSTGRES_SERVER" in run.err, run.why


# -- (d) other settings the app needs to start ------------------------------------------------------------------


def test_settings_from_env_options_and_config(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "settings_app")
    clean.append(repo)
    args = ("--env", "APP_ENV=test", "--env", "APP_FEATURE_FLAGS=a=1,b=2", "--env", "APP_EMPTY=")
    good = compat(repo, "--blue", "blue", "--green", "green", *args)
    assert_pass(good, total=2)
    assert "config-secret-4f1c" not in good.out + good.err
    broken = compat(repo, "--blue", "blue", "--green", "green-broken", *args)
    assert_caught(broken)


def test_settings_missing_fail_loudly(tmp_path, clean):
    """Without the config table the app cannot start: a clear error naming the missing setting."""
    repo = make_app(tmp_path / "repo", "settings_app")
    clean.append(repo)
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().split("[tool.migrator.compat.env]")[0])
    run = compat(repo, "--blue", "blue", "--green", "green", "--env", "APP_ENV=test")
    assert run.code == 2, run.why
    assert "cannot start: APP_SECRET_KEY not set" in run.err and "Traceback" not in run.err, run.why


@pytest.mark.parametrize("pair", ["NOEQUALS", "=value", "1BAD=x"])
def test_bad_env_option(tmp_path, clean, pair):
    repo = make_app(tmp_path / "repo", "settings_app")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", "--env", pair)
    assert run.code == 2, run.why
    assert "--env expects KEY=VALUE" in run.err, run.why


# -- (e) a plain libpq URL for an app on psycopg -----------------------------------------------------------------


def test_url_form_postgresql_for_psycopg(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "psycopg_app")
    clean.append(repo)
    good = compat(repo, "--blue", "blue", "--green", "green", "--url-form", "postgresql")
    assert_pass(good, total=3)
    broken = compat(repo, "--blue", "blue", "--green", "green-broken", "--url-form", "postgresql")
    assert_caught(broken)


def test_default_url_form_breaks_a_psycopg_app(tmp_path, clean):
    """Without --url-form the app gets postgresql+psycopg://, which libpq refuses: blue cannot even be built."""
    repo = make_app(tmp_path / "repo", "psycopg_app")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green")
    assert run.code == 2, run.why
    assert "expected a libpq URL" in run.err, run.why


def test_url_form_unknown_is_a_usage_error(tmp_path, clean):
    repo = make_app(tmp_path / "repo", "psycopg_app")
    clean.append(repo)
    run = compat(repo, "--blue", "blue", "--green", "green", "--url-form", "mysql")
    assert run.code == 2, run.why
    assert "unknown URL form" in run.err, run.why


# -- bench/compat.py stays runnable ------------------------------------------------------------------------------


def test_compat_bench_runs(tmp_path):
    """One url run (after the warm-up) with the profile: the table and the breakdown are printed, and the
    template the bench built is dropped again."""
    import re

    import psycopg

    bench = Path(__file__).resolve().parents[2] / "bench" / "compat.py"
    env = outer_env("PYTEST_")
    proc = subprocess.run([sys.executable, str(bench), "--runs", "1", "--providers", "url", "--database-url", SERVER,
                           "--profile"], capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path, env=env)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: the target missed on a busy machine
    assert "median overhead" in proc.stdout and "profile (url, one in-process run)" in proc.stdout, proc.stdout
    assert "pytest subprocess" in proc.stdout and "Traceback" not in proc.stderr
    (dropped,) = re.findall(r"dropped blue's template (migrator_tpl_\w+)", proc.stderr)
    with psycopg.connect(SERVER) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (dropped,)).fetchone()[0] == 0
