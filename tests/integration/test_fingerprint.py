"""migrator.db.fingerprint against the real server: equal schemas give equal fingerprints whatever the
data, the database name or the order of the statements that built them; any schema difference changes it.

Every database is created with a unique prefix and dropped at the end; the last test proves none is left.
"""

from __future__ import annotations

import itertools
import os
import secrets
import time

import pytest

from migrator.db.fingerprint import SchemaReadError, schema_dump, schema_fingerprint
from migrator.provision import UrlProvider
from tests import _server

SERVER_URL = _server.ADMIN_URL  # the test server (MIGRATOR_TEST_URL, tests/conftest.py)
PREFIX = f"mgfp{secrets.token_hex(3)}"



pytestmark = pytest.mark.usefixtures("pg_server")

# The base schema, in the order a first developer wrote it.
BASE = """
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA billing;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN cents AS bigint NOT NULL CHECK (VALUE >= 0);
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    email citext NOT NULL UNIQUE,
    mood mood DEFAULT 'ok',
    created_at timestamptz NOT NULL DEFAULT now(),
    since date DEFAULT '2024-01-31'
);
CREATE TABLE billing.invoices (
    id serial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    total cents,
    paid boolean NOT NULL DEFAULT false,
    CONSTRAINT invoices_total_sane CHECK (total < 100000000)
);
CREATE INDEX invoices_user_id_idx ON billing.invoices (user_id) WHERE NOT paid;
CREATE FUNCTION users_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := btrim(NEW.name);
    RETURN NEW;
END
$$;
CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_touch();
CREATE VIEW billing.open_invoices AS SELECT i.id, u.email FROM billing.invoices i JOIN users u ON u.id = i.user_id WHERE NOT i.paid;
CREATE SEQUENCE billing.invoice_numbers START 1000 INCREMENT 10;
CREATE TABLE notes (body text);
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, CHECK (id > 0)) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_at_idx ON events (at);
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0001');
"""

# The same result, reached another way: other statement order, constraints and indexes added later, enum
# labels added one by one, a column added and a scratch column dropped, data written, different alembic row.
REORDERED = """
CREATE SCHEMA billing;
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SEQUENCE billing.invoice_numbers INCREMENT BY 10 START WITH 1000;
CREATE DOMAIN cents AS bigint CONSTRAINT cents_check CHECK (VALUE >= 0) NOT NULL;
CREATE TYPE mood AS ENUM ('sad');
ALTER TYPE mood ADD VALUE 'happy';
ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy';
-- commit
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0042');
create table public.users (
    id bigint generated always as identity,
    name text,
    scratch int,
    email citext not null,
    mood mood default 'ok'::mood
);
ALTER TABLE users DROP COLUMN scratch;
ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(), ADD COLUMN since date DEFAULT '2024-01-31';
ALTER TABLE users ADD PRIMARY KEY (id);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE users ALTER COLUMN name SET NOT NULL;
CREATE FUNCTION users_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := btrim(NEW.name);
    RETURN NEW;
END
$$;
CREATE TABLE billing.invoices (id serial, user_id bigint NOT NULL, total cents, paid boolean NOT NULL DEFAULT false);
INSERT INTO users (name, email) VALUES ('ada', 'ada@example.org'), ('bob', 'bob@example.org');
INSERT INTO billing.invoices (user_id, total) SELECT id, 100 FROM users;
ALTER TABLE billing.invoices ADD CONSTRAINT invoices_pkey PRIMARY KEY (id);
ALTER TABLE billing.invoices ADD CONSTRAINT invoices_total_sane CHECK (total < 100000000) NOT VALID;
ALTER TABLE billing.invoices VALIDATE CONSTRAINT invoices_total_sane;
ALTER TABLE billing.invoices ADD CONSTRAINT invoices_user_id_fkey FOREIGN KEY (user_id) REFERENCES users ON DELETE CASCADE;
create index invoices_user_id_idx on billing.invoices using btree (user_id) where (not paid);
CREATE VIEW billing.open_invoices AS
    SELECT i.id, u.email
    FROM billing.invoices AS i
    JOIN users AS u ON (u.id = i.user_id)
    WHERE NOT i.paid;
CREATE TRIGGER users_touch BEFORE UPDATE OR INSERT ON users FOR EACH ROW EXECUTE PROCEDURE users_touch();
SELECT nextval('billing.invoice_numbers');
CREATE UNLOGGED TABLE notes (body text);
INSERT INTO notes VALUES ('x');
ALTER TABLE notes SET LOGGED;
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
ALTER TABLE events ADD CONSTRAINT events_id_check CHECK (id > 0);
CREATE TABLE events_2024 (id bigint NOT NULL, at date NOT NULL, CONSTRAINT events_id_check CHECK (id > 0));
CREATE INDEX events_2024_at_idx ON events_2024 (at);
ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_at_idx ON events (at);
ANALYZE;
"""

# Each a schema difference from BASE; every one must change the fingerprint, and no two may collide.
MUTATIONS = {
    "column type": "ALTER TABLE users ALTER COLUMN name TYPE varchar(200)",
    "type modifier": "ALTER TABLE users ALTER COLUMN name TYPE varchar(100)",
    "nullability": "ALTER TABLE billing.invoices ALTER COLUMN paid DROP NOT NULL",
    "default value": "ALTER TABLE billing.invoices ALTER COLUMN paid SET DEFAULT true",
    "default dropped": "ALTER TABLE users ALTER COLUMN created_at DROP DEFAULT",
    "date default": "ALTER TABLE users ALTER COLUMN since SET DEFAULT '2024-02-01'",
    "new column": "ALTER TABLE users ADD COLUMN nickname text",
    "column order": "ALTER TABLE users DROP COLUMN since; ALTER TABLE users ADD COLUMN since date DEFAULT '2024-01-31'; "
                    "ALTER TABLE users DROP COLUMN created_at; "
                    "ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()",
    "column renamed": "ALTER TABLE users RENAME COLUMN name TO full_name",
    "new index": "CREATE INDEX users_created_at_idx ON users (created_at)",
    "index predicate": "DROP INDEX billing.invoices_user_id_idx; CREATE INDEX invoices_user_id_idx ON billing.invoices (user_id)",
    "unique index": "DROP INDEX billing.invoices_user_id_idx; "
                    "CREATE UNIQUE INDEX invoices_user_id_idx ON billing.invoices (user_id) WHERE NOT paid",
    "check constraint": "ALTER TABLE users ADD CONSTRAINT users_name_len CHECK (length(name) < 100)",
    "not valid constraint": "ALTER TABLE users ADD CONSTRAINT users_name_len CHECK (length(name) < 100) NOT VALID",
    "constraint changed": "ALTER TABLE billing.invoices DROP CONSTRAINT invoices_total_sane, "
                          "ADD CONSTRAINT invoices_total_sane CHECK (total < 100000)",
    "foreign key action": "ALTER TABLE billing.invoices DROP CONSTRAINT invoices_user_id_fkey, "
                          "ADD CONSTRAINT invoices_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)",
    "unique dropped": "ALTER TABLE users DROP CONSTRAINT users_email_key",
    "trigger timing": "DROP TRIGGER users_touch ON users; "
                      "CREATE TRIGGER users_touch BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_touch()",
    "trigger disabled": "ALTER TABLE users DISABLE TRIGGER users_touch",
    "function body": "CREATE OR REPLACE FUNCTION users_touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                     "BEGIN\n    NEW.name := trim(NEW.name);\n    RETURN NEW;\nEND\n$$",
    "function volatility": "ALTER FUNCTION users_touch() STABLE",
    "new function": "CREATE FUNCTION one() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1'",
    "enum label": "ALTER TYPE mood ADD VALUE 'ecstatic'",
    "enum label order": "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'",
    "domain constraint": "ALTER DOMAIN cents DROP CONSTRAINT cents_check",
    "view definition": "CREATE OR REPLACE VIEW billing.open_invoices AS SELECT i.id, u.email FROM billing.invoices i "
                       "JOIN users u ON u.id = i.user_id WHERE i.paid",
    "sequence increment": "ALTER SEQUENCE billing.invoice_numbers INCREMENT BY 1",
    "new schema": "CREATE SCHEMA audit",
    "table moved": "ALTER TABLE billing.invoices SET SCHEMA public",
    "extension": "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "unlogged": "ALTER TABLE notes SET UNLOGGED",
    "storage option": "ALTER TABLE users SET (fillfactor = 70)",
    "row level security": "ALTER TABLE users ENABLE ROW LEVEL SECURITY",
    "policy": "CREATE POLICY users_self ON users USING (name = current_user)",
    "rule": "CREATE RULE users_no_delete AS ON DELETE TO users DO INSTEAD NOTHING",
    "identity kind": "ALTER TABLE users ALTER COLUMN id SET GENERATED BY DEFAULT",
    "generated column": "ALTER TABLE users ADD COLUMN lower_email text GENERATED ALWAYS AS (lower(email::text)) STORED",
    "composite type": "CREATE TYPE pair AS (a int, b int)",
    "materialized view": "CREATE MATERIALIZED VIEW user_count AS SELECT count(*) FROM users",
    "partition bound": "ALTER TABLE events DETACH PARTITION events_2024; "
                       "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2024-07-01')",
    "partition detached": "ALTER TABLE events DETACH PARTITION events_2024",
    "statistics": "CREATE STATISTICS users_stats (dependencies) ON name, email FROM users",
}

# Not part of the schema we fingerprint: data, comments, grants, the alembic version row.
NOT_SCHEMA = {
    "data": "INSERT INTO users (name, email) VALUES ('cy', 'cy@example.org')",
    "alembic version": "UPDATE alembic_version SET version_num = '0099'",
    "comment": "COMMENT ON TABLE users IS 'people'",
    "grant": "GRANT SELECT ON users TO PUBLIC",
    "statistics data": "ANALYZE users",
    "session settings": "ALTER DATABASE {db} SET search_path = billing, public; ALTER DATABASE {db} SET DateStyle = 'SQL, DMY'; "
                        "ALTER DATABASE {db} SET TimeZone = 'Asia/Tokyo'",
}


def run_sql(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for script in sql.split("-- commit\n"):  # a multi-statement script runs as one transaction
            conn.execute(script)


def leftovers() -> list[str]:
    import psycopg

    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)).fetchall()
    return [name for name, in rows]


@pytest.fixture(scope="module")
def server():
    try:
        with UrlProvider(SERVER_URL).start() as server:
            yield server
    finally:
        assert leftovers() == [], "a test database was left behind"


@pytest.fixture(scope="module")
def base(server):
    db = server.create_database(PREFIX)
    try:
        run_sql(db.libpq_url, BASE)
        yield db
    finally:
        db.drop()


@pytest.fixture(scope="module")
def base_print(base):
    return schema_fingerprint(base.url)


def clone(server, base, sql: str):
    db = server.create_database(PREFIX, template=base)
    if sql:
        run_sql(db.libpq_url, sql.replace("{db}", f'"{db.name}"'))
    return db


def test_fingerprint_is_hex_sha256_and_stable(base, base_print):
    assert len(base_print) == 64 and int(base_print, 16) >= 0
    assert schema_fingerprint(base.url) == base_print
    assert schema_fingerprint(base.libpq_url) == base_print  # any URL form


def test_same_schema_built_differently_gives_the_same_fingerprint(server, base, base_print):
    other = server.create_database(PREFIX)
    try:
        run_sql(other.libpq_url, REORDERED)
        assert schema_dump(other.url) == schema_dump(base.url)
        assert schema_fingerprint(other.url) == base_print
    finally:
        other.drop()


@pytest.fixture
def conn(base):
    """A connection to the base database; each change below runs in a transaction that is rolled back."""
    import psycopg

    with psycopg.connect(base.libpq_url, autocommit=True) as conn:
        yield conn


def fingerprint_with(conn, sql: str) -> tuple[str, str]:
    """(fingerprint, dump) of the base schema with `sql` applied, uncommitted, read on the same connection."""
    import hashlib

    with conn.transaction(force_rollback=True):
        conn.execute(sql)
        dump = schema_dump(conn)
    return hashlib.sha256(dump.encode()).hexdigest(), dump


def test_a_connection_reads_the_same_as_the_url(base, base_print, conn):
    assert schema_dump(conn) == schema_dump(base.url)
    assert fingerprint_with(conn, "SELECT 1")[0] == base_print
    conn.execute("SET search_path = billing; SET DateStyle = 'SQL, DMY'")
    assert fingerprint_with(conn, "SELECT 1")[0] == base_print
    assert conn.execute("SHOW search_path").fetchone() == ("billing",)  # the caller's settings are untouched


@pytest.mark.parametrize("what", sorted(NOT_SCHEMA))
def test_what_is_not_schema_leaves_it_unchanged(server, base, base_print, conn, what):
    if "{db}" not in NOT_SCHEMA[what]:
        assert fingerprint_with(conn, NOT_SCHEMA[what])[0] == base_print
        return
    db = clone(server, base, NOT_SCHEMA[what])  # database settings reach new sessions only
    try:
        assert schema_fingerprint(db.url) == base_print
    finally:
        db.drop()


def test_every_schema_difference_changes_it(base_print, conn):
    base_dump = schema_dump(conn)
    prints, dumps = {}, {}
    for what, sql in MUTATIONS.items():
        prints[what], dumps[what] = fingerprint_with(conn, sql)
    unchanged = [what for what, fp in prints.items() if fp == base_print]
    assert unchanged == [], "schema changes the fingerprint missed"
    assert all(dumps[what] != base_dump for what in dumps)
    collisions = [(a, b) for a, b in itertools.combinations(prints, 2) if prints[a] == prints[b]]
    assert collisions == []


def test_dump_is_readable_and_oid_free(base):
    dump = schema_dump(base.url)
    assert "column public.users.email: #3 public.citext not null" in dump
    assert "enum public.mood: 'sad', 'ok', 'happy'" in dump
    assert "constraint billing.invoices.invoices_user_id_fkey: FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE" in dump
    assert "index billing.invoices_user_id_idx: CREATE INDEX invoices_user_id_idx ON billing.invoices USING btree (user_id) WHERE NOT paid" in dump
    assert "trigger public.users.users_touch: CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE ON public.users" in dump
    assert "extension citext:" in dump
    assert "alembic_version" not in dump
    assert base.name not in dump
    assert "users_touch()" in dump and "btrim" in dump


def test_empty_database(server):
    db = server.create_database(PREFIX)
    try:
        dump = schema_dump(db.url)
        assert dump.splitlines() == ["extension plpgsql: 1.0 schema pg_catalog", "schema public"]
    finally:
        db.drop()


def test_fast_on_the_demo_schema(server):
    """Demo-sized schema (the demo's blue + expand revisions): one connection, one catalog query."""
    db = server.create_database(PREFIX)
    try:
        run_sql(db.libpq_url, BASE)
        schema_fingerprint(db.url)  # warm: imports
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            schema_fingerprint(db.url)
            timings.append(time.perf_counter() - started)
        assert sorted(timings)[2] < 0.25, timings
    finally:
        db.drop()


def test_unreachable_database_is_a_clear_password_free_error():
    with pytest.raises(SchemaReadError) as info:
        schema_fingerprint("postgresql+psycopg://app:hunter2@127.0.0.1:1/nowhere")
    assert info.value.exit_code == 2
    message = str(info.value)
    assert message.startswith("cannot read the schema: ") and "hunter2" not in message and "\n" not in message
