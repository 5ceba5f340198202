"""Helpers for tests/integration/test_compat.py and tests/integration/test_compat_faults.py: the demo repository with extra
branches for the fault cases (tests/data/compat_e2e), `migrator compat` through the CLI, and the
checks that a run left nothing behind (databases, worktrees, temp dirs, processes)."""

from __future__ import annotations

import os
import shutil
import signal
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import _server
from tests._cli import migrator_command

DATA = Path(__file__).parent / "data" / "compat_e2e"
ADMIN = _server.ADMIN_URL  # the test server (MIGRATOR_TEST_URL, tests/conftest.py)
URL = ADMIN
URL_ARGS = ("--provider", "url", "--database-url", URL)
PW_ROLE = f"migrator_test_pw_{secrets.token_hex(4)}"  # a role with a password, made and dropped by tests/integration/test_compat.py
# (a name of its own: roles belong to the whole server, which other workers and runs share)
PASSWORD = "S3cret-pw"
TIMEOUT = 60
TRACEBACK = "Traceback (most recent call last)"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}
# databases a run must never leave behind (migrator_tpl_* templates are a documented cache)
TRANSIENT_PREFIXES = ("migrator_check_", "migrator_build_")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=True)
    return done.stdout.strip()


def _commit_on(repo: Path, base: str, tag: str, files: dict[str, Path], message: str) -> None:
    git(repo, "checkout", "-q", "--detach", base)
    for rel, src in files.items():
        dest = repo / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    git(repo, "tag", tag)


def build_e2e_repo(dest: Path) -> Path:
    """The demo repository (tags blue, green, green-broken) plus:
    blue-faults and green-faults (blue / green + faults/<suite>/test_*.py), green-contract-first, green-mislabelled, green-fails,
    green-two-heads, blue-fails (blue + a revision of its own that fails to apply)."""
    from migrator.demo import build_demo_repo

    repo = build_demo_repo(dest)  # commits of its own: the templates e2e_repo and --prune-templates drop are its own
    suites = {f"faults/{d.name}/{f.name.replace('case_', 'test_', 1)}": f
              for d in sorted((DATA / "suites").iterdir()) for f in d.glob("case_*.py")}
    _commit_on(repo, "blue", "blue-faults", suites, "blue + fault suites")
    _commit_on(repo, "green", "green-faults", suites, "green + fault suites")  # green's cell runs them too
    for variant, tag in (("contract_first", "green-contract-first"), ("mislabelled", "green-mislabelled"),
                         ("fails", "green-fails"), ("two_heads", "green-two-heads"), ("blue_fails", "blue-fails")):
        files = {f"migrations/versions/{f.name}": f for f in (DATA / "revisions" / variant).glob("*.py")}
        _commit_on(repo, "blue", tag, files, f"variant {variant}")
    git(repo, "checkout", "-q", "main")
    return repo


def sha(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", f"{ref}^{{commit}}")


# --- PostgreSQL -------------------------------------------------------------------------------------


def admin_query(sql: str, params=None) -> list[tuple]:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def databases(prefix: str) -> set[str]:
    like = prefix.replace("_", r"\_") + "%"
    return {r[0] for r in admin_query("SELECT datname FROM pg_database WHERE datname LIKE %s", (like,))}


def transient_databases(pid: int | None = None) -> set[str]:
    """migrator_check_* / migrator_build_* databases (of the process `pid` when given: names hold the pid)."""
    found: set[str] = set()
    for prefix in TRANSIENT_PREFIXES:
        found |= databases(prefix + (f"{pid}_" if pid is not None else ""))
    return found


def drop_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as conn:
        ident = sql.Identifier(name)
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(ident))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


def template_for(blue_sha: str, role: str = "postgres", project_dir: str = ".", alembic_ini: str = "alembic.ini") -> str:
    """The name of the cached template of blue's schema for this commit and role."""
    from migrator.compat.template import template_name

    return template_name(blue_sha, project_dir, alembic_ini, role)


# --- processes and temp dirs --------------------------------------------------------------------------


def postgres_servers(folder: Path) -> set[int]:
    """Pids of live postgres processes of throwaway clusters under `folder` (their data dir is there)."""
    needle = str(folder).encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and cmd and cmd[0].endswith(b"postgres") and any(needle in part for part in cmd):
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- the CLI ----------------------------------------------------------------------------------------


@dataclass
class Run:
    code: int
    out: str
    err: str
    pid: int

    @property
    def last_error(self) -> str:
        """The last line of stderr: `migrator: ...` for every error or non-pass verdict."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def cli_env(tmpdir: Path, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "MIGRATOR_DEBUG", "MIGRATOR_DATABASE_URL", "MIGRATOR_SCRATCH_URL", "DATABASE_URL")}
    env.update(NO_COLOR="1", TMPDIR=str(tmpdir), PYTHONDONTWRITEBYTECODE="1")
    env.update(extra or {})
    return env


def start_cli(repo: Path, *args: str, tmpdir: Path, env: dict | None = None) -> subprocess.Popen:
    """`migrator compat ...` in its own session (as a terminal would run it: we signal its group)."""
    return subprocess.Popen([*migrator_command(), "compat", *args], cwd=repo, env=cli_env(tmpdir, env),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def run_cli(repo: Path, *args: str, tmpdir: Path, env: dict | None = None, timeout: float = TIMEOUT) -> Run:
    proc = start_cli(repo, *args, tmpdir=tmpdir, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return Run(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), proc.pid)


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"migrator exited {proc.returncode} before the suite started: {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        time.sleep(0.05)


def assert_clean_error(run: Run, code: int, *needles: str) -> str:
    """Exit `code`; no traceback; stdout holds nothing but (for a verdict) the report; the last stderr line
    is one `migrator: ...` line naming every needle."""
    # (pytest's own report of a collection error says "Traceback:", which is the suite's output, not ours)
    assert TRACEBACK not in run.err and TRACEBACK not in run.out, run.err[-3000:]
    assert "internal error" not in run.err, run.err[-3000:]
    assert run.code == code, (run.code, run.err[-3000:], run.out[-2000:])
    line = run.last_error
    assert line.startswith("migrator: "), run.err[-3000:]
    for needle in needles:
        assert needle.lower() in line.lower(), (needle, line)
    return line


# --- fixtures (imported by the test modules) ----------------------------------------------------------


server_reachable = _server.reachable
needs_server = pytest.mark.usefixtures("pg_server")  # tests/conftest.py: skipped without a server


@pytest.fixture(scope="module")
def e2e_repo(tmp_path_factory):
    """One demo repository (with the fault branches) per module; its cached templates are dropped after."""
    repo = build_e2e_repo(tmp_path_factory.mktemp("compat_e2e") / "repo")
    shas = {sha(repo, tag) for tag in git(repo, "tag").split()}
    try:
        yield repo
    finally:
        for commit in shas:
            for role in ("postgres", PW_ROLE):
                drop_database(template_for(commit, role))


class Leftovers:
    """What a run may leave behind, taken before it; `check(pid)` asserts it left nothing.

    `tmpdir` is the run's private TMPDIR (worktrees, JUnit files, alembic results, evidence temp files and,
    as it is traversable by the postgres user, the throwaway clusters of the embedded/local providers)."""

    def __init__(self, repo: Path, tmpdir: Path):
        self.repo, self.tmpdir = repo, tmpdir
        self.worktrees = git(repo, "worktree", "list", "--porcelain")
        self.refs = git(repo, "for-each-ref")

    def check(self, pid: int | None = None) -> None:
        assert transient_databases(os.getpid() if pid is None else pid) == set()
        assert git(self.repo, "worktree", "list", "--porcelain") == self.worktrees
        assert git(self.repo, "for-each-ref") == self.refs
        assert postgres_servers(self.tmpdir) == set()
        left = sorted(p.name for p in self.tmpdir.iterdir())
        assert left == [], f"left in the run's TMPDIR: {left}"


@pytest.fixture
def leftovers(e2e_repo, monkeypatch):
    """A private TMPDIR for this test (also for compat() in this process) and the before-picture.

    Not under pytest's tmp_path: that is private to root, and a cluster run as the postgres user would then
    go to /tmp instead (short path for the socket, too)."""
    import tempfile

    tmpdir = Path(tempfile.mkdtemp(prefix="mgt-e2e-", dir="/tmp"))
    tmpdir.chmod(0o711)
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    try:
        yield Leftovers(e2e_repo, tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
