"""Live-data preflight: the rows that would make a restrictive statement fail, counted on the real database."""

from __future__ import annotations

import psycopg
import pytest

from migrator.release.preflight import preflight

pytestmark = pytest.mark.usefixtures("pg_server")


@pytest.fixture
def conn(throwaway_db):
    connection = psycopg.connect(throwaway_db.url, autocommit=True)
    connection.execute("""
        CREATE TABLE "user" (id int PRIMARY KEY, email text);
        CREATE TABLE item (id int PRIMARY KEY, title varchar(255), owner_id int, price numeric(10,2), n int);
        INSERT INTO "user" VALUES (1, 'a'), (2, 'a'), (3, NULL), (4, NULL);
        INSERT INTO item VALUES (1, repeat('x', 200), 1, 12345.67, 1), (2, 'ok', 9, 1.5, -1),
                                (3, NULL, NULL, 2, NULL), (4, 'fine', 2, 3, 5);
        ALTER TABLE item ADD CONSTRAINT positive CHECK (n > 0) NOT VALID;
    """)
    try:
        yield connection
    finally:
        connection.close()


CASES = [
    ("ALTER TABLE item ALTER COLUMN title SET NOT NULL", "not-null", 1, "in item.title that is NULL"),
    ("ALTER TABLE item ALTER COLUMN title TYPE varchar(128)", "narrowing", 1, "in item.title longer than 128"),
    ("ALTER TABLE item ALTER COLUMN title TYPE varchar(300)", "narrowing", 0, "longer than 300"),
    ("ALTER TABLE item ALTER COLUMN price TYPE numeric(5,2)", "narrowing", 1, "does not fit numeric(5,2)"),
    ('ALTER TABLE item ADD CONSTRAINT fk FOREIGN KEY (owner_id) REFERENCES "user" (id)', "foreign-key", 1,
     'with no match in "user"'),
    ("ALTER TABLE item VALIDATE CONSTRAINT positive", "check", 1, "violating CHECK"),
    ("ALTER TABLE item ADD CONSTRAINT c2 CHECK (n > 0)", "check", 1, "violating CHECK (n > 0)"),
    ('CREATE UNIQUE INDEX CONCURRENTLY ux ON "user" (email)', "unique", 1, 'duplicating another in "user" (email)'),
    ('ALTER TABLE "user" ADD CONSTRAINT ue UNIQUE (email)', "unique", 1, "(email)"),
    ("ALTER TABLE item ADD COLUMN z int NOT NULL", "non-empty", 4, "a new NOT NULL column without a default"),
]


@pytest.mark.parametrize("sql, kind, count, words", CASES, ids=[c[1] + ":" + c[0][:40] for c in CASES])
def test_each_restrictive_statement_is_counted(conn, sql, kind, count, words):
    [found] = preflight(conn, [("r1", 7, sql)])
    assert (found.kind, found.count, found.sampled, found.error) == (kind, count, False, None)
    assert words in found.message and found.fails == bool(count)
    assert found.message.startswith("would fail: 1 row " if count == 1 else "would fail: " if count else "ok: no row")


def test_harmless_statements_are_not_counted(conn):
    statements = ["CREATE INDEX ix ON item (title)", "ALTER TABLE item ADD COLUMN note text",
                  "ALTER TABLE item ADD COLUMN z int NOT NULL DEFAULT 0", "UPDATE item SET n = 1",
                  'ALTER TABLE item ADD CONSTRAINT fk FOREIGN KEY (owner_id) REFERENCES "user" (id) NOT VALID']
    assert preflight(conn, [("r1", i, sql) for i, sql in enumerate(statements)]) == []


def test_validate_reads_the_definition_added_earlier_in_the_plan(conn):
    found = preflight(conn, [
        ("r1", 1, 'ALTER TABLE item ADD CONSTRAINT fk2 FOREIGN KEY (owner_id) REFERENCES "user" (id) NOT VALID'),
        ("r2", 4, "ALTER TABLE item VALIDATE CONSTRAINT fk2")])
    assert [(f.revision, f.line, f.kind, f.count) for f in found] == [("r2", 4, "foreign-key", 1)]


def test_a_column_an_earlier_step_adds_is_left_to_the_contract_gate(conn):
    """The demo's plan: expand adds full_name, contract sets it NOT NULL. Before expand it cannot be counted; that
    is no error, and the contract gate counts it. A column nothing adds stays an unknown count (fail closed)."""
    found = preflight(conn, [("0003", 1, "ALTER TABLE item ADD COLUMN full_name text"),
                             ("0005", 9, "ALTER TABLE item ALTER COLUMN full_name SET NOT NULL"),
                             ("0005", 10, "ALTER TABLE item ALTER COLUMN nowhere SET NOT NULL")])
    added, missing = found
    assert added.pending and added.count is None and not added.fails
    assert added.message == ("counted by the contract gate (full_name is added by an earlier step of this release): "
                             "in item.full_name that is NULL")
    assert not missing.pending and missing.count is None and "does not exist" in missing.message


def test_counts_are_read_only_bounded_and_never_zero_when_unknown(conn):
    conn.execute("CREATE FUNCTION slow(int) RETURNS boolean LANGUAGE sql AS 'SELECT pg_sleep(1) IS NULL'")
    [found] = preflight(conn, [("r1", 1, "ALTER TABLE item ADD CONSTRAINT c3 CHECK (slow(n))")], timeout_ms=200)
    assert found.count is None and "timed out after 200 ms" in found.error and not found.fails
    assert found.message.startswith("not counted (timed out after 200 ms)")
    with psycopg.connect(conn.info.dsn, autocommit=True) as other:  # a writer holding a lock: no waiting behind it
        other.execute("BEGIN")
        other.execute("LOCK TABLE item IN ACCESS EXCLUSIVE MODE")
        [blocked] = preflight(conn, [("r1", 1, "ALTER TABLE item ALTER COLUMN title SET NOT NULL")], timeout_ms=3000)
        other.execute("ROLLBACK")
    assert blocked.count is None and blocked.error == "the table is locked by another session"


def test_a_huge_table_is_sampled(conn):
    conn.execute("CREATE TABLE big (id bigint, v int); INSERT INTO big SELECT g, CASE WHEN g % 100 = 0 THEN NULL "
                 "ELSE 1 END FROM generate_series(1, 200000) g; ANALYZE big")
    [found] = preflight(conn, [("r1", 1, "ALTER TABLE big ALTER COLUMN v SET NOT NULL")], sample_above=10_000,
                        sample_rows=40_000)  # a fifth of the table
    assert found.sampled and found.count and 1000 <= found.count <= 4000  # about 2000 NULLs, scaled from a sample
    assert found.message.startswith("would fail: about ")
