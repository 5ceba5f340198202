"""Crash safety of the applier: SIGKILL the process applying a release (a subprocess running apply_revisions
phase by phase on a demo-like project) at several points, re-run the same phases, and compare the end state
with an uninterrupted run: alembic_version, schema fingerprint, ledger.applied, row counts and backfill
counters (nothing lost, nothing applied twice), no INVALID index, no leftover marker.

Kill points: inside a transactional expand revision, between two revisions, during a CREATE INDEX
CONCURRENTLY, during a backfill batch (migrate), inside the contract revision. Each revision has a hook that
only fires when the child's CRASH variable names it, so the reference run and the re-runs go straight through.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migrator.db.fingerprint import schema_fingerprint
from migrator.release.applier import apply_revisions
from migrator.release.settings import ReleaseSettings
from tests._applier import fresh_db, ledger_with_release, make_project, needs_pg, query, revision_text, scalar

pytestmark = needs_pg

RELEASE = "r-crash"
APP_NAME = f"migrator apply {RELEASE}"
PHASES = [("expand", ["0001", "0002", "0003"]), ("migrate", ["0004", "0005"]), ("contract", ["0006"])]
SETTINGS = ReleaseSettings(lock_timeout_ms=500, lock_retries=20, retry_backoff_base=0.05, retry_backoff_max=0.5)
ROWS = 1500

SLOW_FUNCTIONS = '''
CREATE FUNCTION slow_lower(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF current_setting('crash.slow', true) = 'on' THEN PERFORM pg_sleep(0.002); END IF;
    RETURN lower(t);
END $$;
CREATE FUNCTION slow_true() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('crash.slow', true) = 'on' THEN PERFORM pg_sleep(0.002); END IF;
    RETURN true;
END $$
'''

HOOK = '''
from alembic import context
import sqlalchemy as sa


def crash_here(point):
    return not context.is_offline_mode() and os.environ.get("CRASH") == point
'''

REVISIONS = {
    "0001": revision_text("0001", None, "\n".join([
        "    op.execute('CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, n int NOT NULL DEFAULT 0)')",
        f"    op.execute(\"INSERT INTO items (id, name) SELECT g, 'Item ' || g FROM generate_series(1, {ROWS}) g\")",
        "    op.execute('CREATE TABLE audit (id serial PRIMARY KEY, note text NOT NULL)')",
        f"    op.execute({SLOW_FUNCTIONS!r})",
    ]), phase="expand"),
    "0002": revision_text("0002", "0001", "\n".join([
        "    op.add_column('items', sa.Column('label', sa.Text))",
        "    op.execute(\"INSERT INTO audit (note) VALUES ('0002')\")",
        "    if crash_here('in-0002'):",
        "        op.execute('SELECT pg_sleep(60)')",
        "    op.execute('CREATE TABLE extra (id int)')",
    ]), phase="expand", header=HOOK),
    "0003": revision_text("0003", "0002", "\n".join([
        "    if crash_here('before-0003'):",
        "        open(os.environ['CRASH_MARKER'], 'w').close()",
        "        import time; time.sleep(60)",
        "    with op.get_context().autocommit_block():",
        "        if crash_here('cic'):",
        "            op.execute(\"SET crash.slow = 'on'\")",
        "        op.create_index('ix_items_lower', 'items', [sa.text('slow_lower(name)')],"
        " postgresql_concurrently=True)",
    ]), phase="expand", header=HOOK),
    "0004": revision_text("0004", "0003", "\n".join([
        "    op.execute(\"INSERT INTO audit (note) SELECT 'seed' FROM generate_series(1, 10)\")",
    ]), phase="migrate", header=HOOK),
    "0005": revision_text("0005", "0004", "\n".join([
        "    with op.get_context().autocommit_block():",
        "        if crash_here('backfill'):",
        "            op.execute(\"SET crash.slow = 'on'\")",
        "        backfill(op.get_bind(), 'items', 'n = n + 1', where='slow_true()', batch_size=100)",
    ]), phase="migrate", header=HOOK + "from migrator.backfill import backfill\n"),
    "0006": revision_text("0006", "0005", "\n".join([
        "    op.drop_column('items', 'label')",
        "    if crash_here('in-0006'):",
        "        op.execute('SELECT pg_sleep(60)')",
        "    op.execute('DROP TABLE extra')",
    ]), phase="contract", header=HOOK),
}

DRIVER = """
import sys
from migrator.release.applier import apply_revisions
from migrator.release.settings import ReleaseSettings
url, project = sys.argv[1], sys.argv[2]
settings = ReleaseSettings(lock_timeout_ms=500, lock_retries=20, retry_backoff_base=0.05, retry_backoff_max=0.5)
for phase, revisions in %r:
    apply_revisions(url, project, "alembic.ini", %r, phase, revisions, "migrator", settings)
print("finished")
""" % (PHASES, RELEASE)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("crash"), REVISIONS)


def apply_all(url: str, project: Path, stream=None) -> list[str]:
    applied = []
    for phase, revisions in PHASES:
        applied += apply_revisions(url, project, "alembic.ini", RELEASE, phase, revisions, "migrator", SETTINGS,
                                   stream=stream or io.StringIO())
    return applied


def end_state(url: str, pq: str) -> dict:
    return {
        "alembic_version": query(pq, "SELECT version_num FROM alembic_version"),
        "fingerprint": schema_fingerprint(url),
        "ledger.applied": query(pq, "SELECT revision, phase FROM migrator.applied ORDER BY revision"),
        "items": query(pq, "SELECT count(*), min(n), max(n), sum(n) FROM items"),
        "audit": query(pq, "SELECT note, count(*) FROM audit GROUP BY note ORDER BY note"),
        "invalid indexes": scalar(pq, "SELECT count(*) FROM pg_index WHERE NOT indisvalid"),
        "index": query(pq, "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('ix_items_lower')"),
        "checkpoints": query(pq, "SELECT rows_done, finished, name LIKE 'apply:%' FROM migrator.checkpoints"),
    }


@pytest.fixture(scope="module")
def reference(project) -> dict:
    """The end state of an uninterrupted run."""
    with fresh_db("crashref") as (url, pq):
        ledger_with_release(pq, RELEASE)
        assert apply_all(url, project) == ["0001", "0002", "0003", "0004", "0005", "0006"]
        state = end_state(url, pq)
    assert state["items"] == [(ROWS, 1, 1, ROWS)] and state["index"] == [(True,)]
    assert state["checkpoints"] == [(ROWS, True, False)]
    assert state["audit"] == [("0002", 1), ("seed", 10)]
    return state


def _wait(condition, what: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"the applier ended (status {proc.returncode}) before {what}:\n{out[-3000:]}")
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _active(pq: str, like: str) -> bool:
    """This test's applier runs `like` now: on this test's database only (other workers crash theirs too)."""
    return bool(scalar(pq, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND application_name = %s AND state = 'active' AND query LIKE %s", (APP_NAME, like)))


def _cic_building(pq: str) -> bool:
    return bool(scalar(pq, "SELECT count(*) FROM pg_stat_progress_create_index p JOIN pg_stat_activity a "
                           "USING (pid) WHERE a.datname = current_database() AND a.application_name = %s "
                           "AND p.phase LIKE 'building index%%'",
                       (APP_NAME,)))


def _backfilled(pq: str) -> int:
    return scalar(pq, "SELECT coalesce(max(rows_done), 0) FROM migrator.checkpoints WHERE name LIKE 'backfill:%'")


POINTS = {
    # point: (condition to kill at, extra wait, what the database looks like right after the kill,
    #         what the re-run says)
    "in-0002": (lambda pq, marker: _active(pq, "SELECT pg_sleep(60)%"), 0.0,
                lambda pq: query(pq, "SELECT version_num FROM alembic_version") == [("0001",)],
                "applied 0002 (expand)"),
    "before-0003": (lambda pq, marker: marker.exists(), 0.0,
                    lambda pq: query(pq, "SELECT version_num FROM alembic_version") == [("0002",)],
                    "applied 0003 (expand)"),
    "cic": (lambda pq, marker: _cic_building(pq), 0.3,
            lambda pq: query(pq, "SELECT version_num FROM alembic_version") == [("0002",)]
            and query(pq, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_items_lower'::regclass")
            == [(False,)],
            '0003: dropping index "public"."ix_items_lower" (INVALID)'),
    "backfill": (lambda pq, marker: _backfilled(pq) >= 300, 0.1,
                 lambda pq: 300 <= _backfilled(pq) < ROWS
                 and query(pq, "SELECT version_num FROM alembic_version") == [("0004",)],
                 "backfill items: resuming after id"),
    "in-0006": (lambda pq, marker: _active(pq, "SELECT pg_sleep(60)%"), 0.0,
                lambda pq: query(pq, "SELECT version_num FROM alembic_version") == [("0005",)],
                "applied 0006 (contract)"),
}


@pytest.mark.parametrize("point", list(POINTS))
def test_sigkill_then_rerun_reaches_the_same_end_state(point, project, reference, tmp_path):
    condition, settle, killed_state, says = POINTS[point]
    marker = tmp_path / "at-point"
    with fresh_db(f"crash_{point.replace('-', '_')}") as (url, pq):
        ledger_with_release(pq, RELEASE)
        env = {**os.environ, "CRASH": point, "CRASH_MARKER": str(marker),
               "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                              os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, url, str(project)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: condition(pq, marker), point, proc)
            time.sleep(settle)
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        assert killed_state(pq), f"the kill at {point} did not leave the expected intermediate state"

        started = time.monotonic()
        out = io.StringIO()
        apply_all(url, project, out)  # the same phases again, no crash
        rerun = time.monotonic() - started
        assert says in out.getvalue(), out.getvalue()
        state = end_state(url, pq)
        assert state == reference
        assert apply_all(url, project) == []  # and once done, a re-run is a no-op
        print(f"\n{point}: re-run after SIGKILL took {rerun:.2f}s")
