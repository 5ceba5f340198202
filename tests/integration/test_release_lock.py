"""The coordinator lock when the world misbehaves (D1), against the real PostgreSQL at 127.0.0.1:5432 and the real
`migrator migrate` in a subprocess: the lock session outlives idle timeouts, a run whose lock session is terminated
stops at once (exit 2, "lost the coordinator lock") and applies nothing more, a second run never applies beside a
first one that is still alive, and "another command is running" names the holder."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from migrator.release.coordinator import LOCK_KEY
from tests._applier import make_project, revision_text, sql_body
from tests._cli import migrator_command
from tests.integration.test_release_commands import admin, fresh_database, query, write_release_config

pytestmark = [pytest.mark.usefixtures("pg_server"), pytest.mark.slow]

SLEEP = 4  # seconds revision 0002 takes


@contextmanager
def release_bed(tmp_path: Path, sleep: float = SLEEP):
    """A project whose migrate phase is 0002 (sleeps `sleep` s, then writes a row) and 0003; a database at 0001 with
    a ledger whose release is expanded. Yields (project, config, url, database name, release id)."""
    from migrator.release.commands import libpq_url
    from migrator.release.ledger import Ledger, Release

    import psycopg

    project = make_project(tmp_path / "app", {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE t (id int PRIMARY KEY, note text)")),
        "0002": revision_text("0002", "0001", sql_body(f"SELECT pg_sleep({sleep})", "INSERT INTO t VALUES (2, 'two')")),
        "0003": revision_text("0003", "0002", sql_body("INSERT INTO t VALUES (3, 'three')")),
    })
    config = write_release_config(tmp_path / "ops")
    rid = f"r-lock-{secrets.token_hex(3)}"
    with fresh_database() as (url, name):
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
            conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
            conn.execute("INSERT INTO alembic_version VALUES ('0001')")
            ledger = Ledger(conn)
            ledger.ensure()
            ledger.create_release(Release(rid, "planned", revisions={
                "blue_heads": ["0001"], "expand": [], "migrate": ["0002", "0003"], "contract": []}))
            ledger.set_state(rid, "expanded")
        yield project, config, url, name, rid


def start_migrate(project: Path, config: Path, url: str, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MIGRATOR_DEBUG"}
    env["MIGRATOR_DATABASE_URL"] = url
    return subprocess.Popen([*migrator_command(), "migrate", "--config", str(config), *args], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def sleeping(name: str) -> bool:
    """0002's pg_sleep is running in the app's child."""
    return bool(admin("SELECT 1 FROM pg_stat_activity WHERE datname = %s AND application_name LIKE 'migrator apply %%' "
                      "AND state = 'active' AND query LIKE '%%pg_sleep%%'", (name,)))


def lock_holders(name: str) -> list[tuple]:
    return admin("SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                 "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                 "AND (l.classid::bigint << 32 | l.objid::bigint) = %s "
                 "AND l.database = (SELECT oid FROM pg_database WHERE datname = %s)", (LOCK_KEY, name))


def terminate_lock_holder(name: str) -> int:
    holders = lock_holders(name)
    assert len(holders) == 1, holders
    admin("SELECT pg_terminate_backend(%s)", (holders[0][0],))
    return holders[0][0]


def applied(url: str) -> tuple[list, list]:
    return ([r[0] for r in query(url, "SELECT version_num FROM alembic_version")],
            [r[0] for r in query(url, "SELECT id FROM t ORDER BY id")])


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def test_the_lock_session_outlives_the_databases_idle_timeouts(tmp_path):
    """idle_session_timeout = 1s on the database: the lock session (idle while revision 0002 runs for 4 s) stays,
    and so does the lock."""
    with release_bed(tmp_path) as (project, config, url, name, rid):
        admin(f'ALTER DATABASE "{name}" SET idle_session_timeout = \'1s\'')
        admin(f'ALTER DATABASE "{name}" SET idle_in_transaction_session_timeout = \'1s\'')
        proc = start_migrate(project, config, url)
        try:
            wait_for(lambda: sleeping(name), what="0002 running")
            time.sleep(2.5)  # the lock session has been idle for longer than idle_session_timeout
            assert [app for _, app in lock_holders(name)] == ["migrator"]
        finally:
            code, out, err = finish(proc)
        assert code == 0, (out, err)
        assert applied(url) == (["0003"], [2, 3])


def test_a_run_whose_lock_session_is_terminated_stops_at_once(tmp_path):
    """pg_terminate_backend on the lock session while 0002 runs: the command stops within seconds (its child with
    it, so 0002 is rolled back), exit 2 "lost the coordinator lock", 0003 never starts; the started step gets its
    outcome; a re-run applies both, once."""
    with release_bed(tmp_path, sleep=20) as (project, config, url, name, rid):
        proc = start_migrate(project, config, url)
        wait_for(lambda: sleeping(name), what="0002 running")
        terminate_lock_holder(name)
        stopped_at = time.monotonic()
        code, out, err = finish(proc, timeout=30)
        assert time.monotonic() - stopped_at < 10  # not after 0002's 20 s
        assert code == 2, (out, err)
        assert "Traceback" not in err and "lost the coordinator lock" in err, err
        assert applied(url) == (["0001"], [])
        wait_for(lambda: not sleeping(name), timeout=10, what="0002's session to end")
        events = query(url, "SELECT command, result, detail->>'lost_lock' FROM migrator.events WHERE release_id = %s "
                            "ORDER BY id", (rid,))
        assert events[-2:] == [("migrate", "started", None), ("migrate", "failed", "true")]
        code, out, err = finish(start_migrate(project, config, url))
        assert code == 0, (out, err)
        assert applied(url) == (["0003"], [2, 3])


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def test_a_second_run_never_applies_beside_a_live_first_one(tmp_path):
    """Run 1 (migrator and the app's child, both stopped with SIGSTOP in the middle of 0002) loses its lock session:
    its sessions are alive. Run 2 gets the lock but refuses (exit 2) naming run 1, instead of waiting 15 s and
    applying beside it. Run 1, resumed, stops ("lost the coordinator lock") without starting 0003. A third run
    finishes the release, each revision once."""
    with release_bed(tmp_path) as (project, config, url, name, rid):
        first = start_migrate(project, config, url)
        stopped = [first.pid]
        try:
            wait_for(lambda: sleeping(name), what="0002 running")
            stopped += children(first.pid)
            for pid in stopped:
                os.kill(pid, signal.SIGSTOP)
            terminate_lock_holder(name)
            started = time.monotonic()
            code, out, err = finish(start_migrate(project, config, url))
            assert time.monotonic() - started < 10
            assert code == 2, (out, err)
            assert "still applying revisions of release" in err and "lost the coordinator lock" in err, err
            assert "`migrator migrate` by " in err and f"(client pid {first.pid})" in err, err
            assert applied(url) == (["0001"], [])
        finally:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)
        code, out, err = finish(first)
        assert code == 2 and "lost the coordinator lock" in err, err
        assert applied(url)[0] in (["0001"], ["0002"])  # 0002 committed or rolled back, 0003 never started
        code, out, err = finish(start_migrate(project, config, url))
        assert code == 0, (out, err)
        assert applied(url) == (["0003"], [2, 3])
        events = [r for r in query(url, "SELECT result FROM migrator.events WHERE release_id = %s AND command = "
                                        "'migrate' ORDER BY id", (rid,))]
        assert events.count(("started",)) == 3 and events[-1] == ("succeeded",)
        assert events.count(("failed",)) == 2  # every started step has its outcome


def test_another_command_is_running_names_its_holder(tmp_path):
    with release_bed(tmp_path) as (project, config, url, name, rid):
        first = start_migrate(project, config, url)
        try:
            wait_for(lambda: sleeping(name), what="0002 running")
            code, out, err = finish(start_migrate(project, config, url, "-f", "json"))
            assert code == 2, (out, err)
            line = err.strip()
            assert line.startswith("migrator: another migrator command is running on this database (`migrator "
                                   "migrate` by "), line
            assert f"(client pid {first.pid}), running since " in line and "--wait" in line, line
            assert json.loads(out)["error"] == "CoordinatorBusy"
        finally:
            code, out, err = finish(first)
        assert code == 0, (out, err)
        assert query(url, "SELECT count(*) FROM migrator.coordinator") == [(0,)]  # a clean end removes its row
