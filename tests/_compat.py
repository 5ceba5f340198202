"""Helpers for tests/integration/test_compat_git.py and tests/integration/test_compat_apply.py: temporary git repositories
holding a small alembic project (tests/data/compat/project) with blue and green commits, and uniquely
named databases on the test PostgreSQL server (tests/conftest.py) that are always dropped."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import _server

PROJECT = Path(__file__).parent / "data" / "compat" / "project"
SERVER = _server.SA_SERVER  # the test server (MIGRATOR_TEST_URL, tests/conftest.py)
DB_PREFIX = "migrator_tcompat_"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=True)
    return done.stdout.strip()


def worktree_list(repo: Path) -> str:
    return git(repo, "worktree", "list", "--porcelain")


def revision(rev: str, down: str | None, *sql: str, phase: str | None = None, code: str | None = None,
             header: str = "") -> str:
    """The text of an alembic revision file whose upgrade() runs `sql` (or `code`)."""
    body = code or "\n".join(f"    op.execute({s!r})" for s in sql) or "    pass"
    declared = f"phase = {phase!r}\n" if phase else ""
    return (f'"""revision {rev}"""\n{header}from alembic import op\n\nrevision = {rev!r}\ndown_revision = {down!r}\n'
            f"branch_labels = None\ndepends_on = None\n{declared}\n\ndef upgrade():\n{body}\n\n\n"
            "def downgrade():\n    pass\n")


def write_revisions(project: Path, revisions: dict[str, str]) -> None:
    versions = project / "migrations" / "versions"
    for rev, text in revisions.items():
        (versions / f"{rev}_rev.py").write_text(text, encoding="utf-8")


BLUE = {
    "0001": revision("0001", None, "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)"),
    "0002": revision("0002", "0001", "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users)"),
}


def make_repo(root: Path, blue: dict[str, str] | None = None, green: dict[str, str] | None = None,
              subdir: str | None = None) -> tuple[Path, Path]:
    """A git repository at `root`: commit `blue` (tag v1, branch blue-branch), then `green` on top
    (tag v2, branch main). Returns (root, project folder)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    project = root / subdir if subdir else root
    shutil.copytree(PROJECT, project, dirs_exist_ok=True)
    (project / "appinfo.py").write_text('TREE = "blue"\n', encoding="utf-8")
    # a token of its own: two workers building the same repository in the same second would get the same commits,
    # and the tests look for leftover checkouts by commit
    (root / "README").write_text(f"test repo {secrets.token_hex(8)}\n", encoding="utf-8")
    write_revisions(project, BLUE if blue is None else blue)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "blue")
    git(root, "tag", "v1")
    git(root, "branch", "blue-branch")
    if green is not None:
        (project / "appinfo.py").write_text('TREE = "green"\n', encoding="utf-8")
        write_revisions(project, green)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "green")
        git(root, "tag", "v2")
    return root, project


class Databases:
    """Create uniquely named databases; `drop_all()` drops every one this object created."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def _admin(self):
        import psycopg

        return psycopg.connect(_server.ADMIN_URL, autocommit=True, connect_timeout=5)

    def create(self) -> str:
        name = _server.create_database(DB_PREFIX)  # DB_PREFIX, our pid, _, ...: see leftovers()
        self.names.append(name)
        return name

    def url(self, name: str, password: str | None = None) -> str:
        return _server.url(name, driver="postgresql+psycopg", password=password)

    def query(self, name: str, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(_server.url(name), connect_timeout=5) as conn:
            return conn.execute(sql).fetchall()

    def leftovers(self) -> list[str]:
        with self._admin() as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                (f"{DB_PREFIX}{os.getpid()}_%",)).fetchall()
        return sorted({r[0] for r in rows} - _server.dropping())  # not the ones the dropper is on

    def drop_all(self) -> None:
        _server.drop_later(*self.names)  # tests/_server.py: side by side, sharing checkpoints
        self.names.clear()


@pytest.fixture
def dbs(pg_server):
    databases = Databases()
    try:
        yield databases
    finally:
        databases.drop_all()
        assert databases.leftovers() == []


def columns(dbs: Databases, name: str, table: str) -> list[str]:
    rows = dbs.query(name, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                           f"AND table_name = '{table}' ORDER BY ordinal_position")
    return [r[0] for r in rows]


def version(dbs: Databases, name: str) -> list[str]:
    return sorted(r[0] for r in dbs.query(name, "SELECT version_num FROM alembic_version"))
