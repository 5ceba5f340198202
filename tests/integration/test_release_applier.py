"""migrator.release.settings and migrator.release.applier against the real PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import psycopg
import pytest

from migrator.errors import ConfigError
from migrator.release.applier import (ApplyFailed, LockRetriesExhausted, apply_revisions, committed_early,
                                      concurrent_indexes, libpq_url, safe_url)
from migrator.release.errors import ReleaseError
from migrator.release.ledger import Ledger
from migrator.release.settings import ReleaseSettings, load_release_settings, parse_duration
from tests._applier import (fresh_db, ledger_with_release, make_project, needs_pg, query, revision_text, scalar,
                            sql_body)

DEMO = Path(__file__).resolve().parents[2]
FAST = ReleaseSettings(lock_timeout_ms=200, lock_retries=10, retry_backoff_base=0.05, retry_backoff_max=0.2)


# --- settings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, seconds", [
    ("500ms", 0.5), ("2s", 2.0), ("15m", 900.0), ("1h", 3600.0), ("0", 0.0), (3, 3.0), (0.25, 0.25), ("1.5s", 1.5),
    ("1h30m", 5400.0), (" 10 s ", 10.0), ("2", 2.0), ("1d", 86400.0), ("250MS", 0.25),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "x", "-1", "5 q", "1 2", "ms", None, True, -3, "1s-"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_settings_defaults_file_and_overrides(tmp_path):
    assert load_release_settings(tmp_path / "missing.toml", {}) == ReleaseSettings()
    defaults = ReleaseSettings()
    assert (defaults.lock_timeout_ms, defaults.statement_timeout_ms, defaults.lock_retries, defaults.soak_seconds,
            defaults.retry_backoff_base, defaults.retry_backoff_max, defaults.ledger_schema) == (
        500, 0, 10, 900.0, 0.2, 10.0, "migrator")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.migrator]\npostgres_version = 15\n[tool.migrator.release]\nlock_timeout = "2s"\n'
                         'statement_timeout = "1m"\nlock_retries = 3\nretry_backoff = { base = "100ms", max = "5s" }\n'
                         'soak = "0"\nblue_application_name = "shop-blue"\nledger_schema = "mig"\n')
    s = load_release_settings(pyproject, {})
    assert (s.lock_timeout_ms, s.statement_timeout_ms, s.lock_retries, s.retry_backoff_base, s.retry_backoff_max,
            s.soak_seconds, s.blue_application_name, s.ledger_schema) == (2000, 60000, 3, 0.1, 5.0, 0.0, "shop-blue",
                                                                            "mig")
    # CLI flags win; None means "not given"; field names work too
    s = load_release_settings(tmp_path, {"lock_timeout": "750ms", "soak": None, "lock_retries": 0,
                                         "statement_timeout_ms": 10})
    assert (s.lock_timeout_ms, s.soak_seconds, s.lock_retries, s.statement_timeout_ms) == (750, 0.0, 0, 10)
    assert s.session_sql() == ["SET lock_timeout = 750", "SET statement_timeout = 10"]


@pytest.mark.parametrize("body, needle", [
    ('lock_timeout = "soon"', "lock_timeout"), ("lock_retries = -1", "lock_retries"), ("lock_retries = 1.5", "lock"),
    ('colour = "blue"', "unknown key"), ('retry_backoff = { base = "1s", min = "0" }', "retry_backoff"),
    ('ledger_schema = ""', "ledger_schema"),
])
def test_settings_errors_name_the_key(tmp_path, body, needle):
    (tmp_path / "pyproject.toml").write_text(f"[tool.migrator.release]\n{body}\n")
    with pytest.raises(ConfigError, match=needle):
        load_release_settings(tmp_path / "pyproject.toml", {})


def test_backoff_is_full_jitter_and_capped():
    import random

    s = ReleaseSettings(retry_backoff_base=0.2, retry_backoff_max=1.0)
    rng = random.Random(7)
    for attempt in range(1, 12):
        cap = min(1.0, 0.2 * 2 ** (attempt - 1))
        values = [s.backoff(attempt, rng) for _ in range(50)]
        assert all(0 <= v <= cap for v in values)
        assert max(values) > cap / 3  # spread over the whole range, not a fixed delay


def test_urls_never_show_the_password():
    url = "postgresql+psycopg://app:s3cr%40t@db.example:5432/shop"
    assert "s3cr" not in safe_url(url)
    assert "user=app" in libpq_url(url) and "dbname=shop" in libpq_url(url)  # what psycopg.connect takes
    assert safe_url("postgres://u@h/d") == "postgresql://u@h/d"  # no password: shown whole


# --- CONCURRENTLY statements in offline SQL --------------------------------------------------------------


def test_concurrent_indexes_from_sql():
    found = concurrent_indexes(
        'CREATE INDEX CONCURRENTLY ix_a ON users (email);\n'
        'create unique index concurrently if not exists "Ix_B" on only app.users (lower(name));\n'
        'CREATE INDEX CONCURRENTLY app2.ix_c ON t (x);\n'
        'CREATE INDEX ix_plain ON users (id);\n'
        'CREATE INDEX CONCURRENTLY ON users (name);\n'
        'REINDEX INDEX CONCURRENTLY ix_d;\n'
        'REINDEX (VERBOSE) TABLE CONCURRENTLY app.orders;\n')
    assert [(i.name, i.schema, i.table, i.reindex) for i in found] == [
        ("ix_a", None, '"users"', False),
        ("Ix_B", "app", '"app"."users"', False),
        ("ix_c", "app2", '"t"', False),
        ("ix_d", None, None, True),
        (None, "app", '"app"."orders"', True),
    ]


def test_committed_early_spots_work_committed_before_an_autocommit_block():
    assert committed_early("BEGIN;\nSET lock_timeout = '1s';\nDROP TRIGGER x ON t;\nCOMMIT;\n"
                           "ALTER TABLE t VALIDATE CONSTRAINT c;\nBEGIN;\n"
                           "UPDATE alembic_version SET version_num='2' WHERE alembic_version.version_num = '1';\n"
                           "COMMIT;") == "`DROP TRIGGER x ON t`"
    # only an index build in the block, or an ordinary transactional revision: nothing committed early
    assert committed_early("BEGIN;\nCOMMIT;\nCREATE INDEX CONCURRENTLY ix ON t (a);\nBEGIN;\n"
                           "UPDATE alembic_version SET version_num='2';\nCOMMIT;") is None
    assert committed_early("BEGIN;\nCREATE TABLE a (id int);\nUPDATE alembic_version SET version_num='2';\n"
                           "COMMIT;") is None


# --- applying revisions ----------------------------------------------------------------------------------


@needs_pg
def test_demo_release_applies_phase_by_phase_and_reruns_are_no_ops():
    with fresh_db("demo") as (url, pq):
        ledger_with_release(pq, "r1")
        out = io.StringIO()
        assert apply_revisions(url, DEMO, "alembic.ini", "r1", "expand", ["0001", "0002"], "migrator", FAST,
                               stream=out) == ["0001", "0002"]
        with psycopg.connect(pq, autocommit=True) as conn:
            conn.execute("INSERT INTO users (name, email) SELECT 'n' || g, 'e' || g FROM generate_series(1, 2500) g")
        assert apply_revisions(url, DEMO, "alembic.ini", "r1", "expand", ["0001", "0002", "0003"], "migrator",
                               FAST, stream=out) == ["0003"]
        assert apply_revisions(url, DEMO, "alembic.ini", "r1", "migrate", ["0004"], "migrator", FAST,
                               stream=out) == ["0004"]
        assert scalar(pq, "SELECT count(*) FROM users WHERE full_name IS NULL") == 0
        assert query(pq, "SELECT rows_done, finished FROM migrator.checkpoints WHERE name LIKE 'backfill:r1:0004:%'") \
            == [(2500, True)]
        assert apply_revisions(url, DEMO, "alembic.ini", "r1", "migrate", ["0004"], "migrator", FAST,
                               stream=out) == []
        assert apply_revisions(url, DEMO, "alembic.ini", "r1", "contract", ["0005"], "migrator", FAST,
                               stream=out) == ["0005"]
        assert scalar(pq, "SELECT version_num FROM alembic_version") == "0005"
        assert query(pq, "SELECT revision, phase FROM migrator.applied WHERE release_id = 'r1' ORDER BY applied_at") \
            == [("0001", "expand"), ("0002", "expand"), ("0003", "expand"), ("0004", "migrate"), ("0005", "contract")]
        assert "applied 0004 (migrate)" in out.getvalue() and "rows/s" in out.getvalue()
        # 0005 commits its first step before the VALIDATE block (the trigger goes later, with the column, rule
        # P509): the DBA is told a crash there needs care
        assert ("0005: commits `ALTER TABLE users DROP CONSTRAINT IF EXISTS users_full_name_not_null` before its "
                "autocommit_block") in out.getvalue()


@needs_pg
def test_env_py_is_not_run_and_session_settings_are_in_force(tmp_path):
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body(
            "CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lt, "
            "current_setting('statement_timeout') AS st, current_setting('application_name') AS app")),
        "0002": revision_text("0002", "0001", sql_body("SET lock_timeout = '9s'", "SELECT 1")),
        "0003": revision_text("0003", "0002", sql_body(
            "INSERT INTO seen SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), ''")),
    })
    settings = ReleaseSettings(lock_timeout_ms=250, statement_timeout_ms=60000)
    with fresh_db("env") as (url, pq):
        ledger_with_release(pq)
        assert apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001", "0002", "0003"],
                               "migrator", settings, stream=io.StringIO()) == ["0001", "0002", "0003"]
        rows = query(pq, "SELECT lt, st, app FROM seen")
        # a revision that changes lock_timeout does not leak into the next one
        assert rows == [("250ms", "1min", "migrator apply r-test"), ("250ms", "1min", "")]


@needs_pg
def test_alembic_version_is_the_truth(tmp_path):
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE a (id int)")),
        "0002": revision_text("0002", "0001", sql_body("CREATE TABLE b (id int)")),
        "0003": revision_text("0003", "0002", sql_body("CREATE TABLE c (id int)")),
    })
    with fresh_db("truth") as (url, pq):
        ledger_with_release(pq)
        with psycopg.connect(pq, autocommit=True) as conn:  # 0001 applied by hand, outside migrator
            conn.execute("CREATE TABLE a (id int); CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
                         "INSERT INTO alembic_version VALUES ('0001')")
        out = io.StringIO()
        assert apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001", "0002"], None, FAST,
                               stream=out) == ["0002"]
        assert "0001 is already in alembic_version" in out.getvalue()
        with psycopg.connect(pq, autocommit=True) as conn:
            assert set(Ledger(conn).applied("r-test")) == {"0001", "0002"}
            # the database goes back behind the ledger's back: fail closed
            conn.execute("DROP TABLE b; UPDATE alembic_version SET version_num = '0001'")
        with pytest.raises(ReleaseError, match="ledger records revision 0002 as applied.*downgraded"):
            apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0002"], None, FAST, stream=out)
        with pytest.raises(ReleaseError, match="0003 needs 0002"):
            apply_revisions(url, project, "alembic.ini", "r-test", "migrate", ["0003"], None, FAST, stream=out)


@needs_pg
def test_preconditions_are_clear(tmp_path):
    project = make_project(tmp_path, {"0001": revision_text("0001", None, sql_body("SELECT 1"))})
    with fresh_db("pre") as (url, pq):
        with pytest.raises(ReleaseError, match="no migrator ledger.*migrator plan"):
            apply_revisions(url, project, "alembic.ini", "r-x", "expand", ["0001"], None, FAST, stream=io.StringIO())
        ledger_with_release(pq, "r-other")
        with pytest.raises(ReleaseError, match="release r-x is not in the ledger"):
            apply_revisions(url, project, "alembic.ini", "r-x", "expand", ["0001"], None, FAST, stream=io.StringIO())
        with pytest.raises(ReleaseError, match="revision 0009 is not in the alembic history"):
            apply_revisions(url, project, "alembic.ini", "r-other", "expand", ["0009"], None, FAST,
                            stream=io.StringIO())
    with pytest.raises(ReleaseError, match="cannot connect") as info:
        apply_revisions("postgresql://u:hunter2@127.0.0.1:1/none", project, "alembic.ini", "r", "expand", ["0001"],
                        None, FAST, stream=io.StringIO())
    assert "hunter2" not in str(info.value)


@needs_pg
def test_a_failing_revision_rolls_back_alone(tmp_path):
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE a (id int)")),
        "0002": revision_text("0002", "0001", sql_body("CREATE TABLE b (id int)", "INSERT INTO b VALUES (1)",
                                                       "SELEC oops")),
    })
    with fresh_db("fail") as (url, pq):
        ledger_with_release(pq)
        secret_url = url.replace("postgres@", "postgres:pw-s3cret@")  # trust auth ignores it
        with pytest.raises(ApplyFailed) as info:
            apply_revisions(secret_url, project, "alembic.ini", "r-test", "expand", ["0001", "0002"], None, FAST,
                            stream=io.StringIO())
        message = str(info.value)
        assert info.value.revision == "0002" and info.value.exit_code == 1
        assert "SyntaxError" in message and "SELEC oops" in message and "pw-s3cret" not in message
        assert scalar(pq, "SELECT version_num FROM alembic_version") == "0001"
        assert scalar(pq, "SELECT to_regclass('b')") is None
        assert query(pq, "SELECT revision FROM migrator.applied") == [("0001",)]


@needs_pg
def test_statement_timeout_applies(tmp_path):
    project = make_project(tmp_path, {"0001": revision_text("0001", None, sql_body("SELECT pg_sleep(5)"))})
    with fresh_db("stmt") as (url, pq):
        ledger_with_release(pq)
        started = time.monotonic()
        with pytest.raises(ApplyFailed, match="statement timeout"):
            apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001"], None,
                            ReleaseSettings(statement_timeout_ms=300), stream=io.StringIO())
        assert time.monotonic() - started < 3


RETRY_LINE = "lock not available within lock_timeout 200ms"


class _Reader(threading.Thread):
    """An application client: `SELECT count(*) FROM t` in a loop, recording how long each one took."""

    def __init__(self, pq: str, table: str):
        super().__init__(daemon=True)
        self.pq, self.table = pq, table
        self.waits: list[float] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            with psycopg.connect(self.pq, autocommit=True) as conn:
                while not self.stop.is_set():
                    began = time.monotonic()
                    conn.execute(f"SELECT count(*) FROM {self.table}").fetchone()
                    self.waits.append(time.monotonic() - began)
                    time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


@needs_pg
def test_lock_timeout_bounds_how_long_application_queries_wait(tmp_path):
    """A long transaction holds a lock that conflicts with the DDL; application reads that queue behind the DDL's
    lock request wait at most about lock_timeout per attempt, then the DDL goes through once the blocker is gone."""
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)")),
        "0002": revision_text("0002", "0001", sql_body("ALTER TABLE t ADD COLUMN v int")),
    })
    settings = ReleaseSettings(lock_timeout_ms=200, lock_retries=30, retry_backoff_base=0.1, retry_backoff_max=0.3)
    with fresh_db("lock") as (url, pq):
        ledger_with_release(pq)
        apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001"], None, settings,
                        stream=io.StringIO())
        blocker = psycopg.connect(pq)
        blocker.execute("SELECT * FROM t").fetchall()  # an open transaction holding ACCESS SHARE on t
        reader = _Reader(pq, "t")
        reader.start()
        out = io.StringIO()
        released: list[float] = []

        def release_after_two_retries():  # not after a fixed time: on a busy machine the child may start late
            deadline = time.monotonic() + 120
            while out.getvalue().count(RETRY_LINE) < 2 and time.monotonic() < deadline and not reader.stop.is_set():
                time.sleep(0.02)
            if reader.stop.wait(0.5):  # the reads go on queueing behind further attempts meanwhile
                return  # the apply ended without the blocker letting go: the assertions say how
            released.append(time.monotonic())
            blocker.rollback()

        threading.Thread(target=release_after_two_retries, daemon=True).start()
        try:
            assert apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0002"], None, settings,
                                   stream=out) == ["0002"]
        finally:
            reader.stop.set()
            reader.join(10)
            blocker.close()
        assert reader.error is None
        assert released and time.monotonic() >= released[0]  # it could only finish after the blocker let go
        longest = max(reader.waits)
        retries = out.getvalue().count(RETRY_LINE)
        print(f"\nlock_timeout 200ms: {retries} retries, {len(reader.waits)} reads, longest read wait "
              f"{longest * 1000:.0f} ms, p50 {sorted(reader.waits)[len(reader.waits) // 2] * 1000:.1f} ms")
        assert retries >= 2
        assert longest > 0.1  # the reads did queue behind the DDL's lock request ...
        # ... but for about lock_timeout, not until the blocker let go (>= 0.9 s); the margin is for a busy machine
        assert longest < 0.2 + 0.6
        assert scalar(pq, "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' "
                          "AND column_name = 'v'") == 1


@needs_pg
def test_lock_retries_are_bounded(tmp_path):
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE t (id int)")),
        "0002": revision_text("0002", "0001", sql_body("CREATE TABLE u (id int)", "ALTER TABLE t ADD COLUMN v int")),
    })
    settings = ReleaseSettings(lock_timeout_ms=100, lock_retries=2, retry_backoff_base=0.05, retry_backoff_max=0.1)
    with fresh_db("retries") as (url, pq):
        ledger_with_release(pq)
        apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001"], None, settings,
                        stream=io.StringIO())
        with psycopg.connect(pq) as blocker:
            blocker.execute("LOCK TABLE t IN ACCESS SHARE MODE")
            started = time.monotonic()
            with pytest.raises(LockRetriesExhausted) as info:
                apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0002"], None, settings,
                                stream=io.StringIO())
            elapsed = time.monotonic() - started
        message = str(info.value)
        assert "revision 0002" in message and "lock_timeout 100ms" in message and "3 attempts" in message
        assert "ALTER TABLE t ADD COLUMN v int" in message and "lock_retries" in message
        # 3 attempts of 100 ms plus backoff and the child's start, not lock_retries=30's 6 s or more (the margin is
        # for a busy machine)
        assert elapsed < 5.0
        assert scalar(pq, "SELECT version_num FROM alembic_version") == "0001"
        assert scalar(pq, "SELECT to_regclass('u')") is None  # the whole revision rolled back
        assert query(pq, "SELECT revision FROM migrator.applied") == [("0001",)]


CIC = ("    with op.get_context().autocommit_block():\n"
       "        op.create_index('ix_t_v', 't', ['v'], postgresql_concurrently=True)\n")


@needs_pg
def test_an_invalid_index_left_by_a_failed_build_is_rebuilt(tmp_path):
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE t (id int, v int)",
                                                     "INSERT INTO t SELECT g, g % 10 FROM generate_series(1, 100) g")),
        "0002": revision_text("0002", "0001", CIC),
    })
    with fresh_db("cic") as (url, pq):
        ledger_with_release(pq)
        apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001"], None, FAST, stream=io.StringIO())
        with psycopg.connect(pq, autocommit=True) as conn:
            with pytest.raises(psycopg.errors.UniqueViolation):  # leaves an INVALID index named ix_t_v behind
                conn.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_t_v ON t (v)")
        assert query(pq, "SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = 'ix_t_v'::regclass") == [
            (False, True)]
        out = io.StringIO()
        assert apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0002"], None, FAST,
                               stream=out) == ["0002"]
        assert "dropping index \"public\".\"ix_t_v\" (INVALID)" in out.getvalue()
        assert query(pq, "SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = 'ix_t_v'::regclass") == [
            (True, False)]
        assert scalar(pq, "SELECT count(*) FROM migrator.checkpoints WHERE name LIKE 'apply:%'") == 0  # marker gone


@needs_pg
def test_an_index_that_existed_before_the_revision_is_never_dropped(tmp_path):
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE t (id int, v int)")),
        "0002": revision_text("0002", "0001", CIC),
    })
    with fresh_db("cickeep") as (url, pq):
        ledger_with_release(pq)
        apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001"], None, FAST, stream=io.StringIO())
        with psycopg.connect(pq, autocommit=True) as conn:
            conn.execute("CREATE INDEX ix_t_v ON t (id)")  # somebody else's valid index of the same name
        with pytest.raises(ApplyFailed, match="already exists"):
            apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0002"], None, FAST,
                            stream=io.StringIO())
        assert query(pq, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_t_v'::regclass") == [(True,)]
        assert "(id)" in scalar(pq, "SELECT pg_get_indexdef('ix_t_v'::regclass)")


@needs_pg
def test_a_valid_index_built_by_an_interrupted_attempt_is_rebuilt(tmp_path):
    """The server may finish a CIC whose client was killed before alembic_version moved: the marker written before
    the first attempt says the index was not there before, so the re-run drops and rebuilds it."""
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE t (id int, v int)")),
        "0002": revision_text("0002", "0001", CIC),
    })
    with fresh_db("cicvalid") as (url, pq):
        ledger_with_release(pq)
        apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001"], None, FAST, stream=io.StringIO())
        with psycopg.connect(pq, autocommit=True) as conn:  # what the interrupted attempt left behind
            conn.execute("INSERT INTO migrator.checkpoints (name, release_id, last_key) "
                         "VALUES ('apply:r-test:0002', 'r-test', '[]')")
            conn.execute("CREATE INDEX ix_t_v ON t (id)")
        out = io.StringIO()
        assert apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0002"], None, FAST,
                               stream=out) == ["0002"]
        assert "(valid, built by an interrupted attempt)" in out.getvalue()
        assert "(v)" in scalar(pq, "SELECT pg_get_indexdef('ix_t_v'::regclass)")


@needs_pg
def test_losing_the_database_mid_phase_is_a_clear_error_and_a_rerun_resumes(tmp_path):
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE a (id int)")),
        "0002": revision_text("0002", "0001", "    if not os.path.exists(os.environ.get('NAP_DONE', '/nonexistent')):\n"
                                              "        op.execute('SELECT pg_sleep(30)')\n"
                                              "    op.execute('CREATE TABLE b (id int)')"),
    })
    with fresh_db("down") as (url, pq):
        ledger_with_release(pq)

        def terminate():
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                rows = query(pq, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                 "datname = current_database() AND application_name = 'migrator apply r-test' "
                                 "AND query LIKE 'SELECT pg_sleep(30)%'")
                if rows:
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=terminate, daemon=True)
        killer.start()
        with pytest.raises(ReleaseError, match="lost the connection to .* while applying 0002.*re-run") as info:
            apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001", "0002"], None, FAST,
                            stream=io.StringIO())
        killer.join(5)
        assert info.value.exit_code == 2
        assert query(pq, "SELECT revision FROM migrator.applied") == [("0001",)]
        (tmp_path / "nap-done").touch()
        os.environ["NAP_DONE"] = str(tmp_path / "nap-done")
        try:
            assert apply_revisions(url, project, "alembic.ini", "r-test", "expand", ["0001", "0002"], None, FAST,
                                   stream=io.StringIO()) == ["0002"]
        finally:
            del os.environ["NAP_DONE"]


# --- one lock-retry budget per revision (D12) ----------------------------------------------------------------------


@needs_pg
def test_a_backfill_that_runs_out_of_lock_retries_fails_the_revision_without_a_retry(tmp_path):
    """A row the backfill needs stays locked by an application transaction: the backfill's batch retries use the
    revision's budget (lock_retries), and when they run out the revision fails at once; the applier does not
    retry the whole revision on top (that made (n+1)^2 lock waits)."""
    calls = tmp_path / "upgrade-calls"
    body = ("    from alembic import context\n"
            f"    if not context.is_offline_mode():  # online runs only (the applier also renders it offline)\n"
            f"        with open({str(calls)!r}, 'a') as f:\n            f.write('x')\n"
            "    from migrator.backfill import backfill\n"
            "    with op.get_context().autocommit_block():\n"
            "        backfill(op.get_bind(), 't', 'v = id', batch_size=100, progress=False)\n")
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body("CREATE TABLE t (id int PRIMARY KEY, v int)",
                                                     "INSERT INTO t SELECT g, NULL FROM generate_series(1, 300) g")),
        "0002": revision_text("0002", "0001", body),
    })
    settings = ReleaseSettings(lock_timeout_ms=100, lock_retries=2, retry_backoff_base=0.01, retry_backoff_max=0.02)
    with fresh_db("budget") as (url, pq):
        ledger_with_release(pq)
        apply_revisions(url, project, "alembic.ini", "r-test", "migrate", ["0001"], None, settings,
                        stream=io.StringIO())
        out = io.StringIO()
        with psycopg.connect(pq) as app:
            app.execute("UPDATE t SET v = -1 WHERE id = 150")  # an application transaction, still open
            with pytest.raises(ApplyFailed) as info:
                apply_revisions(url, project, "alembic.ini", "r-test", "migrate", ["0002"], None, settings,
                                stream=out)
        assert not isinstance(info.value, LockRetriesExhausted)
        assert "could not get its row locks within lock_timeout after 3 attempts" in str(info.value)
        assert calls.read_text() == "x"  # upgrade() ran once: no whole-revision retry
        assert "retrying" not in out.getvalue()
        assert scalar(pq, "SELECT version_num FROM alembic_version") == "0001"
        assert scalar(pq, "SELECT rows_done FROM migrator.checkpoints WHERE name LIKE 'backfill:r-test:0002:%'") == 100


# --- lock_timeout 0 means "wait forever" (D4) -----------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [{"lock_timeout": "0"}, {"lock_timeout": "0ms"}, {"lock_timeout": "0.4ms"},
                                       {"lock_timeout": "400us"}, {"lock_timeout_ms": 0}])
def test_a_lock_timeout_of_zero_or_under_a_millisecond_is_refused(tmp_path, overrides):
    with pytest.raises(ConfigError, match=r"0 \(or less than 1ms\) means DDL waits for its locks forever.*"
                                          r"--no-lock-timeout --reason TEXT"):
        load_release_settings(tmp_path, overrides)
    (tmp_path / "pyproject.toml").write_text('[tool.migrator.release]\nlock_timeout = "0"\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml: \[tool.migrator.release\]: lock_timeout = '0': 0 "):
        load_release_settings(tmp_path / "pyproject.toml", {})
    # only the command line's --no-lock-timeout runs without one; never together with --lock-timeout
    assert load_release_settings(tmp_path / "pyproject.toml", {"no_lock_timeout": True}).lock_timeout_ms == 0
    with pytest.raises(ConfigError, match="--no-lock-timeout and --lock-timeout exclude each other"):
        load_release_settings(tmp_path, {"no_lock_timeout": True, "lock_timeout": "2s"})
    assert load_release_settings(tmp_path, {"lock_timeout": "1ms"}).lock_timeout_ms == 1
    (tmp_path / "pyproject.toml").write_text('[tool.migrator.release]\nno_lock_timeout = true\n')
    with pytest.raises(ConfigError, match="unknown key 'no_lock_timeout'"):
        load_release_settings(tmp_path / "pyproject.toml", {})


@needs_pg
def test_the_backfills_of_a_revision_share_its_retry_budget_through_the_child(tmp_path):
    """lock_retries = 2 is the revision's one budget: its first backfill spends it (and the revision catches
    that), so its second one, on another locked table, gives up at its first lock timeout, with the reason
    "retries" reported by the child: the revision fails once, never retried."""
    calls = tmp_path / "upgrade-calls"
    body = ("    from alembic import context\n"
            "    if not context.is_offline_mode():\n"
            f"        with open({str(calls)!r}, 'a') as f:\n            f.write('x')\n"
            "    from migrator.backfill import BackfillError, backfill\n"
            "    with op.get_context().autocommit_block():\n"
            "        try:\n"
            "            backfill(op.get_bind(), 't1', 'v = id', batch_size=10, progress=False)\n"
            "        except BackfillError:\n"
            "            pass\n"
            "        backfill(op.get_bind(), 't2', 'v = id', batch_size=10, progress=False)\n")
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body(
            "CREATE TABLE t1 (id int PRIMARY KEY, v int)", "INSERT INTO t1 SELECT g, NULL FROM generate_series(1, 30) g",
            "CREATE TABLE t2 (id int PRIMARY KEY, v int)", "INSERT INTO t2 SELECT g, NULL FROM generate_series(1, 30) g")),
        "0002": revision_text("0002", "0001", body),
    })
    settings = ReleaseSettings(lock_timeout_ms=100, lock_retries=2, retry_backoff_base=0.01, retry_backoff_max=0.02)
    with fresh_db("budget2") as (url, pq):
        ledger_with_release(pq)
        apply_revisions(url, project, "alembic.ini", "r-test", "migrate", ["0001"], None, settings,
                        stream=io.StringIO())
        with psycopg.connect(pq) as app:
            app.execute("UPDATE t1 SET v = -1 WHERE id = 15")
            app.execute("UPDATE t2 SET v = -1 WHERE id = 15")
            with pytest.raises(ApplyFailed) as info:
                apply_revisions(url, project, "alembic.ini", "r-test", "migrate", ["0002"], None, settings,
                                stream=io.StringIO())
        assert "backfill t2: a batch could not get its row locks within lock_timeout after 1 attempts" in str(
            info.value)
        assert calls.read_text() == "x"
        assert query(pq, "SELECT rows_done FROM migrator.checkpoints WHERE name LIKE 'backfill:r-test:0002:%' "
                         "ORDER BY rows_done") == [(10,), (10,)]


@needs_pg
def test_a_backfill_stops_before_its_next_batch_when_the_coordinator_lock_is_gone(tmp_path):
    """The coordinator's lock session is terminated while a revision's backfill runs (the lock's watcher is not
    running here, so only the backfill's own check can notice): the child reports `backfill: lost_lock`, the
    applier stops with CoordinatorLost (exit 2), and no batch commits after the one in flight."""
    from migrator.release.coordinator import CoordinatorLock
    from migrator.release.errors import CoordinatorLost
    from migrator.release.applier import release_runner

    body = ("    from migrator.backfill import backfill\n"
            "    with op.get_context().autocommit_block():\n"
            "        backfill(op.get_bind(), 't', 'v = slow_one(id)', batch_size=10, progress=False)\n")
    project = make_project(tmp_path, {
        "0001": revision_text("0001", None, sql_body(
            "CREATE TABLE t (id int PRIMARY KEY, v int)", "INSERT INTO t SELECT g, NULL FROM generate_series(1, 300) g",
            "CREATE FUNCTION slow_one(i int) RETURNS int LANGUAGE plpgsql VOLATILE AS "
            "$$ BEGIN PERFORM pg_sleep(0.01); RETURN 1; END $$")),
        "0002": revision_text("0002", "0001", body),
    })
    with fresh_db("lostlock") as (url, pq):
        ledger_with_release(pq)
        apply_revisions(url, project, "alembic.ini", "r-test", "migrate", ["0001"], None, FAST, stream=io.StringIO())
        conn = psycopg.connect(pq, autocommit=True)
        lock = CoordinatorLock(conn, None, command="migrate")
        assert conn.execute("SELECT pg_try_advisory_lock(%s)", (lock.key,)).fetchone()[0]
        lock.held = True  # acquired by hand: no watcher thread
        runner = release_runner(project, project / "alembic.ini", url)
        extras = []
        apply = runner.apply

        def spy(*args, **kwargs):  # what the child reported
            try:
                return apply(*args, **kwargs)
            except Exception as exc:
                extras.append(getattr(exc, "extra", {}))
                raise

        runner.apply = spy
        seen, stop = {}, threading.Event()

        def terminate():
            while not stop.is_set():
                done = scalar(pq, "SELECT rows_done FROM migrator.checkpoints WHERE name LIKE 'backfill:r-test:0002:%'")
                if done and done >= 30:
                    query(pq, "SELECT pg_terminate_backend(%s)", (lock.pid,))
                    seen["at"] = scalar(pq, "SELECT rows_done FROM migrator.checkpoints "
                                            "WHERE name LIKE 'backfill:r-test:0002:%'")
                    return
                time.sleep(0.01)

        killer = threading.Thread(target=terminate, daemon=True)
        killer.start()
        try:
            with pytest.raises(CoordinatorLost, match="lost the coordinator lock") as info:
                apply_revisions(url, project, "alembic.ini", "r-test", "migrate", ["0002"], None, FAST,
                                stream=io.StringIO(), runner=runner, lock=lock)
        finally:
            stop.set()
            killer.join(5)
            runner.close()
            conn.close()
        assert info.value.exit_code == 2
        assert extras and extras[-1].get("backfill") == "lost_lock"
        done = scalar(pq, "SELECT rows_done FROM migrator.checkpoints WHERE name LIKE 'backfill:r-test:0002:%'")
        assert seen["at"] <= done <= seen["at"] + 10
        assert scalar(pq, "SELECT count(*) FROM t WHERE v = 1") == done
        assert scalar(pq, "SELECT version_num FROM alembic_version") == "0001"
