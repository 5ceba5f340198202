"""Statement shapes whose classification depends on what earlier migrations or the live catalog established:
type narrowing vs widening, functions used by triggers and views, row level security policies."""

from __future__ import annotations

import psycopg
import pytest

from migrator.api import classify_paths
from migrator.classify.catalog import knowledge_from_catalog
from migrator.classify.engine import classify_sql



def _run(tmp_path, files: dict[str, str]):
    for name, sql in files.items():
        (tmp_path / name).write_text(sql)
    return {m.source.rsplit("/", 1)[-1]: m for m in classify_paths([str(tmp_path)]).migrations}


def _rules(migration) -> set[str]:
    return {r for s in migration.statements for r in s.rules}


def test_types_from_an_earlier_migration_tell_narrowing_from_widening(tmp_path):
    runs = _run(tmp_path, {
        "001.sql": "ALTER TABLE item ADD COLUMN title varchar(300), ADD COLUMN note varchar(100);",
        "002.sql": "ALTER TABLE item ALTER COLUMN title TYPE varchar(255);",
        "003.sql": "ALTER TABLE item ALTER COLUMN note TYPE varchar(200);",
    })
    narrowed, widened = runs["002.sql"], runs["003.sql"]
    assert narrowed.phase.label == "contract" and "C329" in _rules(narrowed)
    (finding,) = [f for s in narrowed.statements for f in s.findings if f.rule == "C329"]
    assert "longer than 255" in finding.message and "blue may still write" in finding.message
    assert widened.phase.label == "expand" and _rules(widened) >= {"E108"} and "C303" not in _rules(widened)
    assert list(widened.statements)[0].rewrite.label == "none"


def test_function_users_and_policies_carry_across_migrations(tmp_path):
    runs = _run(tmp_path, {
        "001.sql": "CREATE TRIGGER users_sync BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION sync_name();\n"
                   "CREATE POLICY everyone ON accounts TO PUBLIC USING (true);",
        "002.sql": "CREATE OR REPLACE FUNCTION sync_name() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; "
                   "END $$;\nALTER TABLE accounts ENABLE ROW LEVEL SECURITY;",
    })
    second = runs["002.sql"]
    messages = [f.message for s in second.statements for f in s.findings]
    assert any(m.startswith("replaces function sync_name, used by trigger users_sync on users") and
               "migrator compat" in m for m in messages), messages
    assert second.phase.label == "expand", messages


def test_enable_row_level_security_alone_is_contract_and_says_why():
    report = classify_sql("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;")
    (statement,) = report.statements
    assert report.phase.label == "contract" and statement.lock.label == "ACCESS EXCLUSIVE"
    (finding,) = [f for f in statement.findings if f.rule == "C331"]
    assert finding.severity.label == "error" and "sees no rows" in finding.message


def test_attach_partition_shows_the_exclusive_lock_and_the_scan():
    (statement,) = classify_sql("ALTER TABLE measurements ATTACH PARTITION m2024 "
                                "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');").statements
    assert statement.lock.label == "ACCESS EXCLUSIVE" and statement.rewrite.label == "scan"
    assert statement.table == "m2024"
    (finding,) = [f for f in statement.findings if f.rule == "E118"]
    assert "SHARE UPDATE EXCLUSIVE on measurements" in finding.message and "default partition" in finding.message


@pytest.fixture
def live(throwaway_db):
    conn = psycopg.connect(throwaway_db.url, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


@pytest.mark.usefixtures("pg_server")
def test_the_live_catalog_tells_widening_narrowing_and_function_users(live):
    live.execute("""
        CREATE TABLE item (id int PRIMARY KEY, title varchar(100), price numeric(10,2), seen timestamptz);
        CREATE FUNCTION sync_item() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER item_sync BEFORE INSERT ON item FOR EACH ROW EXECUTE FUNCTION sync_item();
        CREATE FUNCTION label(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT upper(t)';
        CREATE VIEW item_labels AS SELECT id, label(title) AS label FROM item;
        CREATE POLICY everyone ON item TO PUBLIC USING (true);
    """)
    knowledge = knowledge_from_catalog(live)
    widen = classify_sql("ALTER TABLE item ALTER COLUMN title TYPE varchar(255), "
                         "ALTER COLUMN price TYPE numeric(12,2);", knowledge=knowledge)
    assert widen.phase.label == "expand" and widen.statements[0].rewrite.label == "none", widen.statements[0].rules
    narrow = classify_sql("ALTER TABLE item ALTER COLUMN title TYPE varchar(50);\n"
                          "ALTER TABLE item ALTER COLUMN seen TYPE timestamp;", knowledge=knowledge_from_catalog(live))
    assert all("C329" in s.rules and s.phase.label == "contract" for s in narrow.statements)
    replaced = classify_sql("CREATE OR REPLACE FUNCTION sync_item() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                            "RETURN NEW; END $$;\nCREATE OR REPLACE FUNCTION label(t text) RETURNS text LANGUAGE sql "
                            "IMMUTABLE AS 'SELECT lower(t)';\nALTER TABLE item ENABLE ROW LEVEL SECURITY;",
                            knowledge=knowledge_from_catalog(live))
    messages = [f.message for s in replaced.statements for f in s.findings]
    assert any("used by trigger item_sync on item" in m for m in messages), messages
    assert any("used by view item_labels" in m for m in messages), messages
    assert replaced.phase.label == "expand", messages  # the live policy admits every row
