"""Helpers for tests/integration/test_release_applier.py, test_backfill.py and test_release_crash.py: uniquely named databases
on the test PostgreSQL server (tests/_server.py; always dropped), small alembic projects in a temporary folder whose
env.py refuses to run online (the applier must not use it), and a ledger with one release."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests import _server

SERVER = _server.SERVER
DB_PREFIX = "migrator_tapplier_"

ALEMBIC_INI = """[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
path_separator = os
sqlalchemy.url = postgresql+psycopg://nobody@127.0.0.1:1/nowhere
"""

# The applier configures alembic on its own connection; an env.py that runs would fail loudly.
ENV_PY = '''from alembic import context
if not context.is_offline_mode():
    raise RuntimeError("env.py must not run online: the applier configures alembic itself")
context.configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)
with context.begin_transaction():
    context.run_migrations()
'''


server_available = _server.reachable
needs_pg = pytest.mark.usefixtures("pg_server")  # tests/conftest.py: skipped without a server, marked postgres


@contextmanager
def fresh_db(tag: str = "db"):
    """Yield (sqlalchemy url, libpq url) of a new empty database; it is dropped afterwards, whatever happens."""
    with _server.throwaway(f"{DB_PREFIX}{tag}_", later=True) as name:
        yield _server.url(name, driver="postgresql+psycopg"), _server.url(name)


def revision_text(rev: str, down: str | None, body: str, *, phase: str | None = None, header: str = "") -> str:
    """An alembic revision file; `body` is the indented code of upgrade()."""
    declared = f"phase = {phase!r}\n" if phase else ""
    return (f'"""revision {rev}"""\nimport os\n\nfrom alembic import op\n{header}\nrevision = {rev!r}\n'
            f"down_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n{declared}\n\n"
            f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n")


def sql_body(*statements: str) -> str:
    return "\n".join(f"    op.execute({s!r})" for s in statements) or "    pass"


def make_project(root: Path, revisions: dict[str, str]) -> Path:
    """An alembic project at `root`: alembic.ini, migrations/env.py (refuses online), one file per revision."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI, encoding="utf-8")
    (root / "migrations" / "env.py").write_text(ENV_PY, encoding="utf-8")
    for rev, text in revisions.items():
        (versions / f"{rev}_rev.py").write_text(text, encoding="utf-8")
    return root


def ledger_with_release(libpq_url: str, release_id: str = "r-test", schema: str = "migrator") -> None:
    from migrator.release.ledger import Ledger, Release

    with psycopg.connect(libpq_url, autocommit=True) as conn:
        ledger = Ledger(conn, schema)
        ledger.ensure()
        ledger.create_release(Release(release_id, "planned"))


def query(libpq_url: str, text: str, params=None) -> list[tuple]:
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        return conn.execute(text, params).fetchall()


def scalar(libpq_url: str, text: str, params=None):
    rows = query(libpq_url, text, params)
    return rows[0][0] if rows else None
