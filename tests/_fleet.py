"""A fleet for tests/integration/test_fleet.py and bench/fleet.py: a tiny alembic project in a git repository (blue: one
table; green: expand adds a column, migrate fills it, contract drops the old one) and many uniquely named
databases at blue's schema on the test server (tests/_server.py), copied from a template database.
Only databases this kit created are ever dropped (it keeps their names); no pytest import, so the bench can use it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from tests import _server
from tests._applier import ALEMBIC_INI, ENV_PY  # the same tiny alembic project the applier tests use

HOST = _server.HOSTPORT  # the test server (MIGRATOR_TEST_URL)
ADMIN = _server.ADMIN_URL
PREFIX = "migrator_tfleet_"
GIT_ENV = {"GIT_AUTHOR_NAME": "Fleet", "GIT_AUTHOR_EMAIL": "fleet@example.com", "GIT_COMMITTER_NAME": "Fleet",
           "GIT_COMMITTER_EMAIL": "fleet@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

BLUE_SQL = ["CREATE TABLE items (id integer PRIMARY KEY, old text)"]
# revision -> (down revision, phase, statements)
REVISIONS = {
    "0001": (None, "expand", BLUE_SQL),
    "0002": ("0001", "expand", ["ALTER TABLE items ADD COLUMN note text"]),
    "0003": ("0002", "migrate", ["UPDATE items SET note = 'n' || id WHERE note IS NULL"]),
    "0004": ("0003", "contract", ["ALTER TABLE items DROP COLUMN old"]),
}

HOOK_SCRIPT = r'''
import json, sys
from pathlib import Path
state = Path(sys.argv[1])
payload = json.load(sys.stdin)
with open(state.with_suffix(".log"), "a") as log:
    log.write(json.dumps({"action": payload["action"]}) + "\n")
if payload["action"] in ("switch", "rollback"):
    state.write_text(payload["to_color"])
current = state.read_text().strip() if state.exists() else "blue"
print(json.dumps({"status": "succeeded", "observed": {"active_color": current}}))
'''


def revision_file(rev: str) -> str:
    down, phase, statements = REVISIONS[rev]
    body = "\n".join(f"    op.execute({s!r})" for s in statements)
    return (f'"""revision {rev}"""\nfrom alembic import op\n\nrevision = {rev!r}\ndown_revision = {down!r}\n'
            f"branch_labels = None\ndepends_on = None\nphase = {phase!r}\n\n\ndef upgrade():\n{body}\n\n\n"
            "def downgrade():\n    pass\n")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def make_repo(root: Path) -> Path:
    """The app: commit `blue` (0001), then green (0002-0004) at HEAD; a clean working tree."""
    repo = root / "app"
    versions = repo / "migrations" / "versions"
    versions.mkdir(parents=True)
    (repo / "alembic.ini").write_text(ALEMBIC_INI, encoding="utf-8")
    (repo / "migrations" / "env.py").write_text(ENV_PY, encoding="utf-8")
    (repo / "migrations" / "script.py.mako").write_text("", encoding="utf-8")
    (repo / ".gitignore").write_text("__pycache__/\n", encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    (versions / "0001_rev.py").write_text(revision_file("0001"), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "blue")
    git(repo, "tag", "blue")
    for rev in ("0002", "0003", "0004"):
        (versions / f"{rev}_rev.py").write_text(revision_file(rev), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "green")
    return repo


def write_config(folder: Path, urls: list[str], *, concurrency: int = 8, waves=(10, 50, 100), canary=1,
                 extra_fleet: str = "", soak: str = "0") -> Path:
    """fleet.toml outside the repository: release settings (soak 0), a command router hook keeping the live
    colour in <folder>/colour, and [tool.migrator.fleet] with the databases."""
    folder.mkdir(parents=True, exist_ok=True)
    hook = folder / "router.py"
    hook.write_text(HOOK_SCRIPT, encoding="utf-8")
    command = json.dumps([sys.executable, str(hook), str(folder / "colour")])
    config = folder / "fleet.toml"
    canary_text = json.dumps(canary)
    config.write_text(
        "[tool.migrator]\npostgres_version = 15\n\n"
        f'[tool.migrator.release]\nsoak = "{soak}"\nlock_timeout = "2s"\nlock_retries = 3\n\n'
        f'[tool.migrator.hook]\nkind = "command"\ncommand = {command}\ntimeout = "20s"\ndeadline = "30s"\n'
        'poll_interval = "0.1s"\n\n'
        f"[tool.migrator.fleet]\nurls = {json.dumps(urls)}\nconcurrency = {concurrency}\n"
        f"waves = {json.dumps(list(waves))}\ncanary = {canary_text}\n{extra_fleet}", encoding="utf-8")
    return config


def admin(statement, params=None) -> list[tuple]:
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=10) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


def url_of(name: str) -> str:
    return _server.url(name, driver="postgresql+psycopg")


def libpq_of(name: str) -> str:
    return _server.url(name)


def run_sql(name: str, *statements: str) -> None:
    with psycopg.connect(libpq_of(name), autocommit=True, connect_timeout=10) as conn:
        for statement in statements:
            conn.execute(statement)


def fingerprint(name: str) -> str:
    from migrator.release.commands import live_fingerprint

    with psycopg.connect(libpq_of(name), autocommit=True, connect_timeout=10) as conn:
        return live_fingerprint(conn, "migrator")


class Fleet:
    """`count` databases at blue's schema (from a template), named PREFIX<run>_<i>; drop() drops exactly those."""

    def __init__(self, count: int, rows: int = 20):
        self.run = secrets.token_hex(4)
        self.names: list[str] = []
        self.template = f"{PREFIX}{self.run}_tpl"
        self.created: list[str] = []
        self.rows = rows
        self.count = count

    def __enter__(self) -> "Fleet":
        try:
            self.create()
        except BaseException:
            self.drop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.drop()

    def _create(self, name: str, template: str | None = None) -> None:
        self.created.append(name)  # before: a half-made database is dropped too
        _server.create_database(name=name, template=template)

    def create(self) -> None:
        self._create(self.template)
        run_sql(self.template, *BLUE_SQL,
                "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY)",
                "INSERT INTO alembic_version VALUES ('0001')",
                f"INSERT INTO items SELECT i, 'o' || i FROM generate_series(1, {int(self.rows)}) i")
        self.names = [f"{PREFIX}{self.run}_{i:03d}" for i in range(self.count)]
        self.created.extend(self.names)  # before: a half-made fleet is dropped too
        with ThreadPoolExecutor(max_workers=8) as pool:  # copies side by side: each waits on the server's disk
            list(pool.map(lambda name: _server.create_database(name=name, template=self.template), self.names))

    @property
    def urls(self) -> list[str]:
        return [url_of(n) for n in self.names]

    def extra(self, tag: str) -> str:
        """One more database at blue's schema (e.g. a scratch copy), dropped with the rest."""
        name = f"{PREFIX}{self.run}_{tag}"
        self._create(name, self.template)
        return name

    def drop(self) -> None:
        """Hand every database it made to the dropper (tests/_server.py: side by side, sharing checkpoints)."""
        _server.drop_later(*self.created)
        self.created.clear()


def write_evidence(fleet: Fleet, repo: Path, path: Path) -> Path:
    """Compat evidence (format 2) as `migrator compat --full` writes it for this release: the fingerprints of
    blue's, the expanded and the contracted schema, computed on a scratch copy made here."""
    from tests._evidence import document, write

    scratch = fleet.extra("fp")
    blue = fingerprint(scratch)
    run_sql(scratch, *REVISIONS["0002"][2])
    expanded = fingerprint(scratch)
    run_sql(scratch, *REVISIONS["0004"][2])
    contracted = fingerprint(scratch)
    doc = document(blue_sha=git(repo, "rev-parse", "blue"), green_sha=git(repo, "rev-parse", "HEAD"), blue=blue,
                   expanded=expanded, contracted=contracted,
                   revisions={"blue_heads": ["0001"], "none": [], "expand": ["0002"], "migrate": ["0003"],
                              "held_back": ["0004"]})
    return write(path, doc)


def migrator(*args: str, cwd: Path | None = None, timeout: float = 900, env: dict | None = None):
    """`migrator ARGS` in a child process (stdout, stderr, exit code)."""
    proc = subprocess.run([sys.executable, "-m", "migrator.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    return proc
