"""migrator.backfill against the real PostgreSQL at 127.0.0.1:5432: batches, checkpoints, resume, lock timeouts,
progress, adaptive batch size, offline rendering (the demo's 0004)."""

from __future__ import annotations

import io
from pathlib import Path

import psycopg
import pytest

from migrator.backfill import BackfillError, backfill, default_name, release_context
from migrator.release.settings import ReleaseSettings
from tests._applier import fresh_db, ledger_with_release, needs_pg, query, scalar

DEMO = Path(__file__).resolve().parents[2]

pytestmark = needs_pg


@pytest.fixture(scope="module")
def db():
    """One database for the module (with a ledger); each test makes its own tables."""
    with fresh_db("backfill") as (url, pq):
        ledger_with_release(pq, "r-b")
        yield url, pq


def _table(pq: str, name: str, rows: str) -> None:
    with psycopg.connect(pq, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"CREATE TABLE {name} (id bigint PRIMARY KEY, v text, n int NOT NULL DEFAULT 0)")
        conn.execute(f"INSERT INTO {name} (id, v) {rows}")


def test_batches_commit_and_checkpoint(db):
    url, pq = db
    _table(pq, "t_basic", "SELECT g, NULL FROM generate_series(1, 2500) g")
    out = io.StringIO()
    with psycopg.connect(pq, autocommit=True) as conn:
        result = backfill(conn, "t_basic", "v = 'x' || id, n = n + 1", where="v IS NULL", batch_size=1000,
                          stream=out)
    assert (result.rows, result.keys, result.batches, result.checkpointed, result.skipped) == (2500, 2500, 3, True,
                                                                                                False)
    assert query(pq, "SELECT count(*), min(n), max(n) FROM t_basic WHERE v = 'x' || id") == [(2500, 1, 1)]
    name = default_name("t_basic", "v = 'x' || id, n = n + 1", "id", "v IS NULL")
    assert query(pq, "SELECT last_key, rows_done, finished FROM migrator.checkpoints WHERE name = %s", (name,)) == [
        ("2500", 2500, True)]
    text = out.getvalue()
    assert "backfill t_basic:" in text and "rows/s" in text and "ETA" in text and "2,500 rows updated" in text


def test_sparse_and_text_keys(db):
    url, pq = db
    _table(pq, "t_sparse", "SELECT g * 1000, NULL FROM generate_series(1, 50) g")
    with psycopg.connect(pq, autocommit=True) as conn:
        assert backfill(conn, "t_sparse", "n = n + 1", batch_size=7, progress=False).batches == 8
        conn.execute("DROP TABLE IF EXISTS t_text")
        conn.execute("CREATE TABLE t_text (code text PRIMARY KEY, n int NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO t_text (code) SELECT md5(g::text) FROM generate_series(1, 300) g")
        result = backfill(conn, "t_text", "n = n + 1", key="code", batch_size=64, progress=False)
    assert result.rows == 300 and result.batches == 5
    assert query(pq, "SELECT min(n), max(n) FROM t_sparse") == [(1, 1)]
    assert query(pq, "SELECT min(n), max(n) FROM t_text") == [(1, 1)]


def test_resumes_after_the_last_committed_batch(db):
    url, pq = db
    _table(pq, "t_resume", "SELECT g, NULL FROM generate_series(1, 1000) g")
    with psycopg.connect(pq, autocommit=True) as conn:
        # an earlier run committed the batches up to id 400, then died
        conn.execute("INSERT INTO migrator.checkpoints (name, last_key, rows_done) VALUES ('resume-me', '400', 400)")
        conn.execute("UPDATE t_resume SET n = 1 WHERE id <= 400")
        out = io.StringIO()
        result = backfill(conn, "t_resume", "n = n + 1", batch_size=250, name="resume-me", stream=out)
        assert (result.resumed_from, result.rows, result.batches) == ("400", 600, 3)
        assert "resuming after id 400" in out.getvalue()
        assert query(pq, "SELECT min(n), max(n) FROM t_resume") == [(1, 1)]  # nobody updated twice
        assert query(pq, "SELECT rows_done, finished FROM migrator.checkpoints WHERE name = 'resume-me'") == [
            (1000, True)]
        # an explicitly named, finished backfill is done: a re-run is a no-op
        again = backfill(conn, "t_resume", "n = n + 1", batch_size=250, name="resume-me", stream=out)
        assert again.skipped and again.rows == 0
        assert "already finished" in out.getvalue()


def test_release_scope_and_finished_checkpoints(db):
    url, pq = db
    _table(pq, "t_scope", "SELECT g, NULL FROM generate_series(1, 100) g")
    with psycopg.connect(pq, autocommit=True) as conn:
        with release_context("r-b", "0042", ReleaseSettings()):
            first = backfill(conn, "t_scope", "n = n + 1", progress=False)
            second = backfill(conn, "t_scope", "n = n + 1", progress=False)
        assert first.name.startswith("backfill:r-b:0042:t_scope:") and first.rows == 100
        assert second.skipped  # same release and revision: finished means done
        # outside a release, a finished checkpoint starts over (e.g. the revision was downgraded and re-run)
        plain1 = backfill(conn, "t_scope", "n = n + 1", progress=False)
        plain2 = backfill(conn, "t_scope", "n = n + 1", progress=False)
    assert plain1.rows == plain2.rows == 100
    assert scalar(pq, "SELECT min(n) FROM t_scope") == 3
    assert scalar(pq, "SELECT release_id FROM migrator.checkpoints WHERE name = %s", (first.name,)) == "r-b"


def test_a_locked_row_times_out_the_batch_and_a_rerun_resumes(db):
    url, pq = db
    _table(pq, "t_locked", "SELECT g, NULL FROM generate_series(1, 500) g")
    with psycopg.connect(pq, autocommit=True) as conn, psycopg.connect(pq) as app:
        app.execute("UPDATE t_locked SET v = 'app' WHERE id = 333")  # an application transaction, still open
        conn.execute("SET lock_timeout = 100")
        with pytest.raises(BackfillError, match="lock_timeout after 2 attempts.*re-run to resume"):
            backfill(conn, "t_locked", "n = n + 1", batch_size=100, name="locked", lock_retries=1, progress=False)
        assert query(pq, "SELECT last_key, rows_done, finished FROM migrator.checkpoints WHERE name = 'locked'") == [
            ("300", 300, False)]
        app.rollback()
        result = backfill(conn, "t_locked", "n = n + 1", batch_size=100, name="locked", progress=False)
        assert (result.resumed_from, result.rows) == ("300", 200)
    assert query(pq, "SELECT min(n), max(n), count(*) FROM t_locked") == [(1, 1, 500)]


def test_refuses_to_run_inside_a_transaction_and_bad_arguments(db):
    url, pq = db
    _table(pq, "t_tx", "SELECT g, NULL FROM generate_series(1, 10) g")
    with psycopg.connect(pq) as conn:
        conn.execute("SELECT 1")
        with pytest.raises(BackfillError, match="outside a transaction.*autocommit_block"):
            backfill(conn, "t_tx", "n = 1", progress=False)
    with psycopg.connect(pq, autocommit=True) as conn:
        with pytest.raises(BackfillError, match="table no_such_table not found"):
            backfill(conn, "no_such_table", "n = 1", progress=False)
        with pytest.raises(BackfillError, match="no column 'uuid'"):
            backfill(conn, "t_tx", "n = 1", key="uuid", progress=False)
        with pytest.raises(BackfillError, match="batch_size"):
            backfill(conn, "t_tx", "n = 1", batch_size=0, progress=False)
    with pytest.raises(BackfillError, match="no connection"):
        backfill(None, "t_tx", "n = 1")


def test_without_a_ledger_it_runs_without_a_checkpoint_and_creates_nothing():
    with fresh_db("noledger") as (url, pq):
        with psycopg.connect(pq, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT 0)")
            conn.execute("INSERT INTO t (id) SELECT generate_series(1, 30)")
            out = io.StringIO()
            result = backfill(conn, "t", "n = n + 1", batch_size=10, stream=out)
        assert result.rows == 30 and not result.checkpointed
        assert "running without a checkpoint" in out.getvalue()
        assert scalar(pq, "SELECT count(*) FROM pg_namespace WHERE nspname = 'migrator'") == 0


def test_adaptive_batch_size_follows_batch_duration(db):
    url, pq = db
    _table(pq, "t_adapt", "SELECT g, NULL FROM generate_series(1, 3000) g")
    with psycopg.connect(pq, autocommit=True) as conn:
        quick = backfill(conn, "t_adapt", "n = n + 1", batch_size=50, target_batch_seconds=5.0, progress=False,
                         max_batch_size=2000)
        # batches far quicker than the target grow (x1.2 each): far fewer than 3000 / 50 = 60 batches
        assert quick.rows == 3000 and quick.batches < 25
        assert quick.batch_sizes[:4] == [50, 60, 72, 86]
        conn.execute("CREATE OR REPLACE FUNCTION slow_zero(i bigint) RETURNS int LANGUAGE plpgsql VOLATILE AS "
                     "$$ BEGIN PERFORM pg_sleep(0.0001); RETURN 0; END $$")
        slow = backfill(conn, "t_adapt", "n = n + 1 + slow_zero(id)", where="id <= 200", batch_size=800,
                        target_batch_seconds=0.02, min_batch_size=100, progress=False)
        # the first batch (200 slow rows, ~0.2 s) is far over the 0.02 s target: the next one is half as big;
        # the rest are quick again, so the size grows back by 1.2x per batch
        assert slow.rows == 200
        assert slow.batch_sizes[:3] == [800, 400, 480]
    assert query(pq, "SELECT min(n), max(n) FROM t_adapt") == [(1, 2)]
    assert scalar(pq, "SELECT count(*) FROM t_adapt WHERE n = 2") == 200


def test_offline_mode_renders_one_update():
    """Under `alembic upgrade --sql` (and `migrator classify`) the demo's 0004 renders one UPDATE, unchanged."""
    from migrator import api

    report = api.demo()
    m = next(m for m in report.migrations if m.revision == "0004")
    assert [s.sql for s in m.statements] == ["COMMIT", "UPDATE users SET full_name = name WHERE full_name IS NULL",
                                             "BEGIN"]
    assert m.phase.label == "migrate" and m.declared_phase.label == "migrate"
    findings = [f for s in m.statements for f in s.findings] + m.findings
    assert [f.rule for f in findings if f.suppressed] == ["M203"]  # reviewed in the revision file, with a reason
    assert not [f for f in findings if not f.suppressed]


# --- any driver, and the author's SQL taken literally (D10) -------------------------------------------------------

def _drivers():
    out = ["psycopg"]
    try:
        import psycopg2  # noqa: F401

        out.append("psycopg2")
    except ImportError:
        pass
    return out


def _bare(driver: str, pq: str, autocommit: bool = True):
    if driver == "psycopg":
        return psycopg.connect(pq, autocommit=autocommit)
    import psycopg2

    conn = psycopg2.connect(pq)
    conn.autocommit = autocommit
    return conn


PERCENT_SET = "v = 'x%' || (id % 3), n = n + 1"
PERCENT_WHERE = "(v IS NULL OR v LIKE 'a%') AND id % 2 = 0 AND '10:30' <> ':id'"


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_percent_and_colon_in_the_authors_sql_are_literal_on_a_bare_connection(db, driver):
    if driver not in _drivers():
        pytest.skip(f"{driver} is not installed")
    url, pq = db
    table = f"t_pct_{driver}"
    _table(pq, table, "SELECT g, CASE WHEN g <= 10 THEN 'a' || g END FROM generate_series(1, 500) g")
    conn = _bare(driver, pq)
    try:
        result = backfill(conn, table, PERCENT_SET, where=PERCENT_WHERE, batch_size=100, progress=False)
    finally:
        conn.close()
    assert result.rows == 250
    assert query(pq, f"SELECT count(*), min(v), max(v) FROM {table} WHERE n = 1") == [(250, "x%0", "x%2")]
    assert scalar(pq, f"SELECT count(*) FROM {table} WHERE n = 1 AND id % 2 = 1") == 0


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
@pytest.mark.parametrize("autocommit", [True, False])
def test_any_sqlalchemy_driver_in_or_out_of_autocommit(db, driver, autocommit):
    """A SQLAlchemy connection of any PostgreSQL driver, as alembic's op.get_bind() gives it: in an autocommit
    block, or a plain connection outside a transaction (each batch then commits through SQLAlchemy)."""
    if driver not in _drivers():
        pytest.skip(f"{driver} is not installed")
    import sqlalchemy as sa

    if driver == "psycopg" and sa.__version__.startswith("1."):
        pytest.skip("SQLAlchemy 1.4 has no psycopg 3 dialect")

    url, pq = db
    table = f"t_sa_{driver}_{int(autocommit)}"
    _table(pq, table, "SELECT g, CASE WHEN g <= 10 THEN 'a' || g END FROM generate_series(1, 500) g")
    engine = sa.create_engine(url.replace("+psycopg", f"+{driver}"))
    try:
        with engine.connect() as conn:
            if autocommit:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            result = backfill(conn, table, PERCENT_SET, where=PERCENT_WHERE, batch_size=64, progress=False)
            assert (result.rows, result.checkpointed) == (250, True)
            if not autocommit:  # nothing left open: every batch committed
                assert not conn.in_transaction()
                with conn.begin():  # as alembic's transaction of a revision, outside an autocommit block
                    with pytest.raises(BackfillError, match="outside a transaction"):
                        backfill(conn, table, "n = n + 1", progress=False)
    finally:
        engine.dispose()
    assert query(pq, f"SELECT count(*), min(v), max(v) FROM {table} WHERE n = 1") == [(250, "x%0", "x%2")]
    name = default_name(table, PERCENT_SET, "id", PERCENT_WHERE)
    assert query(pq, "SELECT rows_done, finished FROM migrator.checkpoints WHERE name = %s", (name,)) == [
        (250, True)]


# --- the defaults, and the lock budget of a batch ---------------------------------------------------------------


def test_default_batches_grow_towards_the_target_and_session_settings_come_back(db):
    url, pq = db
    _table(pq, "t_default", "SELECT g, NULL FROM generate_series(1, 60000) g")
    with psycopg.connect(pq, autocommit=True) as conn:
        conn.execute("ALTER TABLE t_default SET (autovacuum_enabled = false)")  # no estimate: no share cap
        conn.execute("SET statement_timeout = '7s'")
        before = conn.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
                              "current_setting('synchronous_commit')").fetchone()
        result = backfill(conn, "t_default", "n = n + 1", progress=False)
        after = conn.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
                             "current_setting('synchronous_commit')").fetchone()
    assert result.rows == 60000 and result.batch_sizes[0] == 1000
    assert max(result.batch_sizes) > 1000 and result.batches < 60  # quick batches grow: fewer than fixed 1000s
    assert after == before == ("7s", "0", "on")
    assert query(pq, "SELECT min(n), max(n) FROM t_default") == [(1, 1)]


def test_a_default_batch_locks_a_small_share_of_the_table(db):
    """With the planner's estimate (ANALYZE), a default batch takes at most 0.125% of the table's rows (never under
    100 keys): a client writing a random row meets the batch's row locks in well under 1% of its transactions."""
    url, pq = db
    _table(pq, "t_share", "SELECT g, NULL FROM generate_series(1, 160000) g")
    with psycopg.connect(pq, autocommit=True) as conn:
        conn.execute("ANALYZE t_share")
        result = backfill(conn, "t_share", "n = n + 1", progress=False)
    assert result.rows == 160000 and max(result.batch_sizes) == 200 == result.batch_sizes[0]
    assert query(pq, "SELECT min(n), max(n) FROM t_share") == [(1, 1)]


# --- grouped batches: the default on an autocommit session sends many committed batches per round trip ------------


def test_default_batches_go_in_groups_each_batch_committed_with_its_checkpoint(db):
    """Text keys with a quote and a backslash, the author's `%`, `:` and braces: 800 batches of 100 keys in far fewer round
    trips, every row updated once, the checkpoint at the last key."""
    url, pq = db
    with psycopg.connect(pq, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS t_group")
        conn.execute("CREATE TABLE t_group (code text PRIMARY KEY, v text, n int NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO t_group (code) SELECT 'k''\\' || lpad(g::text, 6, '0') "
                     "FROM generate_series(1, 80000) g")
        conn.execute("ANALYZE t_group")
        result = backfill(conn, "t_group", "v = '{%:}' || code, n = n + 1", key="code", where="v IS NULL",
                          progress=False)
    assert (result.rows, result.batches, set(result.batch_sizes)) == (80000, 800, {100})
    assert result.round_trips < result.batches / 4
    assert query(pq, "SELECT count(*), min(n), max(n) FROM t_group WHERE v = '{%:}' || code") == [(80000, 1, 1)]
    name = default_name("t_group", "v = '{%:}' || code, n = n + 1", "code", "v IS NULL")
    assert query(pq, "SELECT last_key, rows_done, finished FROM migrator.checkpoints WHERE name = %s", (name,)) == [
        ("k'\\080000", 80000, True)]


def test_a_lock_timeout_inside_a_group_keeps_its_committed_batches_and_resumes_after_them(db):
    """An app session holds one row's lock: the group that reaches it stops at lock_timeout with the batches before
    it committed; the retry starts after them, gets the row once the app commits, and no row is updated twice."""
    import threading

    url, pq = db
    _table(pq, "t_group_lock", "SELECT g, NULL FROM generate_series(1, 20000) g")
    settings = ReleaseSettings(lock_timeout_ms=200, lock_retries=20, retry_backoff_base=0.05, retry_backoff_max=0.1)
    with psycopg.connect(pq, autocommit=True) as conn, psycopg.connect(pq) as app, \
            psycopg.connect(pq, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (0x5EED0003,))  # the coordinator's lock, held throughout
        lock = {"pid": holder.info.backend_pid, "key": 0x5EED0003}
        conn.execute("ANALYZE t_group_lock")
        app.execute("UPDATE t_group_lock SET v = 'app' WHERE id = 15000")
        released = threading.Timer(1.0, app.commit)
        released.start()
        try:
            with release_context("r-b", "0097", settings, lock=lock):
                result = backfill(conn, "t_group_lock", "n = n + 1", name="group-lock", progress=False)
        finally:
            released.join()
    assert result.rows == 20000 and result.round_trips > 1
    assert query(pq, "SELECT min(n), max(n), count(*) FILTER (WHERE v = 'app') FROM t_group_lock") == [(1, 1, 1)]
    assert query(pq, "SELECT rows_done, finished FROM migrator.checkpoints WHERE name = 'group-lock'") == [
        (20000, True)]


def test_a_group_stops_at_once_when_the_coordinator_lock_is_gone(db):
    """The coordinator's session ended before the backfill: the group's first batch sees it, touches nothing and
    the backfill stops with reason "lost_lock"."""
    url, pq = db
    _table(pq, "t_group_lost", "SELECT g, NULL FROM generate_series(1, 500) g")
    holder = psycopg.connect(pq, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (0x5EED0002,))
    lock = {"pid": holder.info.backend_pid, "key": 0x5EED0002}
    holder.close()
    with psycopg.connect(pq, autocommit=True) as conn:
        with release_context("r-b", "0096", ReleaseSettings(lock_timeout_ms=2000), lock=lock):
            with pytest.raises(BackfillError, match="lost the coordinator lock") as info:
                backfill(conn, "t_group_lost", "n = n + 1", name="group-lost", progress=False)
    assert info.value.reason == "lost_lock"
    assert scalar(pq, "SELECT count(*) FROM t_group_lost WHERE n > 0") == 0


@pytest.mark.parametrize("batch_size, sizes, retried", [
    (120, {30}, 60),     # 120 rows x 6 ms = 0.72 s > 0.3 s; 60 rows = 0.36 s > 0.3 s; 30 rows = 0.18 s fits
    (None, {31}, 31),    # grouped: 1000 keys (all 120 rows) halved down to 31 rows (0.19 s), which fits
])
def test_a_batch_never_holds_its_locks_longer_than_the_lock_budget(db, batch_size, sizes, retried):
    """Each batch runs under statement_timeout = the lock budget (here the session's lock_timeout, 300 ms): a
    batch that outruns it is rolled back and retried at half the size, until batches fit. A group of batches is
    one statement: it is cut there, keeping its committed batches. Every row is updated once."""
    url, pq = db
    table = f"t_budget_{batch_size or 'grouped'}"
    _table(pq, table, "SELECT g, NULL FROM generate_series(1, 120) g")
    out = io.StringIO()
    with psycopg.connect(pq, autocommit=True) as conn:
        conn.execute("CREATE OR REPLACE FUNCTION slow_one(i bigint) RETURNS int LANGUAGE plpgsql VOLATILE AS "
                     "$$ BEGIN PERFORM pg_sleep(0.006); RETURN 1; END $$")
        conn.execute("SET lock_timeout = 300")
        result = backfill(conn, table, "n = slow_one(id)", batch_size=batch_size, stream=out)
    assert result.rows == 120 and set(result.batch_sizes) == sizes
    assert f"statement_timeout 300ms: retrying with {retried} keys" in out.getvalue()
    assert query(pq, f"SELECT min(n), max(n) FROM {table}") == [(1, 1)]


# --- the coordinator lock before every batch (D1) and one retry budget per revision (D12) ---------------------------


def test_a_lost_coordinator_lock_stops_the_backfill_before_its_next_batch(db):
    """The coordinator's lock session is terminated mid-backfill: the batch in flight (which started with the lock
    held) may commit, no batch after it does, and the error says why (reason "lost_lock")."""
    import threading
    import time

    url, pq = db
    _table(pq, "t_lost", "SELECT g, NULL FROM generate_series(1, 400) g")
    key = 0x5EED0001
    holder = psycopg.connect(pq, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (key,))
    lock = {"pid": holder.info.backend_pid, "key": key}
    seen, stop = {}, threading.Event()

    def terminate():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not stop.is_set():
            done = scalar(pq, "SELECT rows_done FROM migrator.checkpoints WHERE name = 'lost'")
            if done and done >= 20:
                query(pq, "SELECT pg_terminate_backend(%s)", (lock["pid"],))
                seen["at"] = scalar(pq, "SELECT rows_done FROM migrator.checkpoints WHERE name = 'lost'")
                return
            time.sleep(0.01)

    killer = threading.Thread(target=terminate, daemon=True)
    try:
        with psycopg.connect(pq, autocommit=True) as conn:
            conn.execute("CREATE OR REPLACE FUNCTION slow_one(i bigint) RETURNS int LANGUAGE plpgsql VOLATILE AS "
                         "$$ BEGIN PERFORM pg_sleep(0.01); RETURN 1; END $$")
            killer.start()
            with release_context("r-b", "0099", ReleaseSettings(lock_timeout_ms=2000), lock=lock):
                with pytest.raises(BackfillError, match="lost the coordinator lock") as info:
                    backfill(conn, "t_lost", "n = slow_one(id)", batch_size=10, name="lost", progress=False)
    finally:
        stop.set()
        killer.join(5)
        holder.close()
    assert info.value.reason == "lost_lock"
    done = scalar(pq, "SELECT rows_done FROM migrator.checkpoints WHERE name = 'lost'")
    assert seen["at"] <= done <= seen["at"] + 10 and done < 400  # at most the batch in flight
    assert scalar(pq, "SELECT count(*) FROM t_lost WHERE n = 1") == done


def test_the_backfills_of_a_revision_share_one_lock_retry_budget(db):
    """Budget 3: a first backfill spends 2 retries (and gives up: lock_retries=1), so a second one has 1 left:
    it gives up after 2 attempts, not after 1 + lock_retries; the error's reason is "retries"."""
    url, pq = db
    _table(pq, "t_bud1", "SELECT g, NULL FROM generate_series(1, 50) g")
    _table(pq, "t_bud2", "SELECT g, NULL FROM generate_series(1, 50) g")
    settings = ReleaseSettings(lock_timeout_ms=100, lock_retries=3, retry_backoff_base=0.01, retry_backoff_max=0.02)
    with psycopg.connect(pq, autocommit=True) as conn, psycopg.connect(pq) as app:
        app.execute("UPDATE t_bud1 SET v = 'app' WHERE id = 5")
        app.execute("UPDATE t_bud2 SET v = 'app' WHERE id = 5")
        with release_context("r-b", "0098", settings, retry_budget=3):
            with pytest.raises(BackfillError, match="after 2 attempts") as first:
                backfill(conn, "t_bud1", "n = n + 1", batch_size=10, lock_retries=1, progress=False)
            with pytest.raises(BackfillError, match="after 2 attempts") as second:
                backfill(conn, "t_bud2", "n = n + 1", batch_size=10, progress=False)
    assert first.value.reason == second.value.reason == "retries"


def test_a_group_whose_progress_does_not_come_back_goes_on_from_the_checkpoint(db, monkeypatch):
    """Behind a pooler in transaction mode the session setting that carries a group's progress can come back from
    another server session. Here it is reset after every group: the backfill takes the progress from the checkpoint
    row and goes on one batch per statement; no row is updated twice."""
    from migrator.backfill_session import Session

    url, pq = db
    _table(pq, "t_group_pool", "SELECT g, NULL FROM generate_series(1, 30000) g")
    script = Session.script

    def then_another_session(self, statement):
        script(self, statement)
        script(self, "RESET migrator.backfill_group")

    monkeypatch.setattr(Session, "script", then_another_session)
    with psycopg.connect(pq, autocommit=True) as conn:
        conn.execute("ANALYZE t_group_pool")
        result = backfill(conn, "t_group_pool", "n = n + 1", name="group-pool", progress=False)
    assert result.rows == 30000 and result.batches < 300  # the first group's batches are not counted one by one
    assert query(pq, "SELECT min(n), max(n) FROM t_group_pool") == [(1, 1)]
    assert query(pq, "SELECT rows_done, finished FROM migrator.checkpoints WHERE name = 'group-pool'") == [
        (30000, True)]


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_groups_on_any_sqlalchemy_driver_take_the_authors_sql_literally_and_a_transaction_gets_single_batches(
        db, driver):
    """Default pacing through SQLAlchemy: in AUTOCOMMIT the batches go in groups (the DO block reaches the driver
    with no parameters, so `%` and `:` stay literal); on a connection that commits through SQLAlchemy each batch
    is one statement."""
    if driver not in _drivers():
        pytest.skip(f"{driver} is not installed")
    import sqlalchemy as sa

    if driver == "psycopg" and sa.__version__.startswith("1."):
        pytest.skip("SQLAlchemy 1.4 has no psycopg 3 dialect")
    url, pq = db
    engine = sa.create_engine(url.replace("+psycopg", f"+{driver}"))
    try:
        for autocommit in (True, False):
            table = f"t_sa_group_{driver}_{int(autocommit)}"
            _table(pq, table, "SELECT g, CASE WHEN g <= 10 THEN 'a' || g END FROM generate_series(1, 40000) g")
            with psycopg.connect(pq, autocommit=True) as plain:
                plain.execute(f"ANALYZE {table}")
            with engine.connect() as conn:
                if autocommit:
                    conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                result = backfill(conn, table, PERCENT_SET, where=PERCENT_WHERE, progress=False)
            assert result.rows == 20000 and result.batches == 400
            if autocommit:
                assert result.round_trips < result.batches / 4
            else:
                assert result.round_trips == result.batches + 1  # and the last, empty one that finishes
            assert query(pq, f"SELECT count(*), min(v), max(v) FROM {table} WHERE n = 1") == [(20000, "x%0", "x%2")]
            assert scalar(pq, f"SELECT count(*) FROM {table} WHERE n <> 1 AND id % 2 = 0") == 0
    finally:
        engine.dispose()
