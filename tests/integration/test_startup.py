"""migrator.startup.check_schema: the check an app runs at start-up instead of migrating."""

import json
import uuid

import psycopg
import pytest

from migrator.startup import SchemaNotReady, check_schema

pytestmark = pytest.mark.usefixtures("pg_server")
HISTORY = {"0001": None, "0002": "0001", "0003": "0002", "0004": "0003"}


@pytest.fixture
def scripts(tmp_path):
    """An alembic folder whose head is `head` (rewritten per test)."""
    folder = tmp_path / "migrations"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text("")
    (folder / "script.py.mako").write_text("")

    def at(head):
        for old in (folder / "versions").glob("*.py"):
            old.unlink()
        rev = head
        while rev:
            down = HISTORY[rev]
            (folder / "versions" / f"{rev}.py").write_text(
                f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n"
                "def upgrade():\n    pass\n")
            rev = down
        return str(folder)
    return at


@pytest.fixture
def database(throwaway_db):
    with psycopg.connect(throwaway_db.url, autocommit=True) as conn:
        yield throwaway_db.sa_url, conn


def at_revision(conn, rev):
    conn.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(32) PRIMARY KEY)")
    conn.execute("DELETE FROM alembic_version")
    conn.execute("INSERT INTO alembic_version VALUES (%s)", (rev,))


def release(conn, evidence_cells, state="expanded"):
    conn.execute("CREATE SCHEMA migrator")
    conn.execute("CREATE TABLE migrator.releases (id text, state text, revisions jsonb, evidence jsonb, "
                 "created_at timestamptz DEFAULT now())")
    revisions = {"blue_heads": ["0002"], "expand": ["0003"], "migrate": [], "contract": ["0004"]}
    evidence = {"cells": evidence_cells} if evidence_cells is not None else None
    conn.execute("INSERT INTO migrator.releases (id, state, revisions, evidence) VALUES ('r1', %s, %s, %s)",
                 (state, json.dumps(revisions), json.dumps(evidence) if evidence is not None else None))


def cell(app, schema, passed=3, failed=0):
    return {"app": app, "schema": schema, "result": "pass" if not failed else "fail", "passed": passed,
            "failed": failed, "errors": 0}


def test_same_revision_starts(database, scripts):
    url, conn = database
    at_revision(conn, "0002")
    assert "this app's revision" in check_schema(url, scripts("0002"))


def test_unknown_later_revision_refuses_without_a_release(database, scripts):
    url, conn = database
    at_revision(conn, "0003")
    with pytest.raises(SchemaNotReady, match="no migrator release is in flight"):
        check_schema(url, scripts("0002"))


def test_empty_database_refuses(database, scripts):
    url, _ = database
    with pytest.raises(SchemaNotReady, match="no alembic revision"):
        check_schema(url, scripts("0002"))


def test_blue_starts_on_proven_expanded_schema(database, scripts):
    url, conn = database
    at_revision(conn, "0003")
    release(conn, [cell("blue", "expanded"), cell("green", "expanded")])
    assert "blue is proven" in check_schema(url, scripts("0002"))
    assert "green is proven" in check_schema(url, scripts("0004"))


def test_unproven_or_failed_cells_refuse(database, scripts):
    url, conn = database
    at_revision(conn, "0003")
    release(conn, [cell("blue", "expanded", failed=1)])
    with pytest.raises(SchemaNotReady, match="blue/expanded cell did not pass"):
        check_schema(url, scripts("0002"))
    with pytest.raises(SchemaNotReady, match="no green/expanded cell"):
        check_schema(url, scripts("0004"))


def test_blue_refuses_after_contract(database, scripts):
    url, conn = database
    at_revision(conn, "0004")
    release(conn, [cell("blue", "expanded"), cell("green", "contracted")], state="switched")
    with pytest.raises(SchemaNotReady, match="blue's schema is gone"):
        check_schema(url, scripts("0002"))
    assert "this app's revision" in check_schema(url, scripts("0004"))


def test_engine_and_runner_skip(database, scripts, monkeypatch):
    from sqlalchemy import create_engine

    url, conn = database
    at_revision(conn, "0002")
    engine = create_engine(url)
    try:
        assert "this app's revision" in check_schema(engine, scripts("0002"))
        with engine.connect() as c:
            assert "this app's revision" in check_schema(c, scripts("0002"))
    finally:
        engine.dispose()
    monkeypatch.setenv("MIGRATOR_RUNNER", "1")
    assert "skipped" in check_schema("postgresql://nobody@127.0.0.1:1/none", scripts("0002"))


def test_blue_is_told_to_go_once_the_release_is_contracted(database, scripts):
    url, conn = database
    at_revision(conn, "0004")
    release(conn, [cell("blue", "expanded"), cell("green", "contracted")], state="contracted")
    with pytest.raises(SchemaNotReady, match="release r1 is contracted: blue's schema is gone"):
        check_schema(url, scripts("0002"))
    assert "this app's revision" in check_schema(url, scripts("0004"))


def test_a_role_that_cannot_read_the_ledger_is_told_what_to_grant(database, scripts):
    url, conn = database
    at_revision(conn, "0003")
    release(conn, [cell("blue", "expanded")])
    role = f"migrator_startup_app_{uuid.uuid4().hex[:8]}"
    conn.execute(f'CREATE ROLE "{role}" LOGIN')
    conn.execute(f'GRANT SELECT ON alembic_version TO "{role}"')
    try:
        app_url = url.replace("postgres@", f"{role}@")
        with pytest.raises(SchemaNotReady, match="may not read migrator's ledger .*GRANT USAGE ON SCHEMA migrator"):
            check_schema(app_url, scripts("0002"))
        at_revision(conn, "0002")  # at its own revision the ledger is not even read
        assert "this app's revision" in check_schema(app_url, scripts("0002"))
    finally:
        conn.execute(f'REVOKE ALL ON alembic_version FROM "{role}"')
        conn.execute(f'DROP OWNED BY "{role}"')
        conn.execute(f'DROP ROLE "{role}"')


def test_an_async_url_points_at_the_async_check(scripts):
    with pytest.raises(TypeError, match="check_schema_async"):
        check_schema("postgresql+asyncpg://u@h/d", scripts("0002"))
