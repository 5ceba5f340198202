"""Property tests: whatever text comes in, classification never crashes.

Three generators: random text, SQL-keyword soup, and mutations of real migration statements (deletions,
duplications, inserted quotes / dollar quotes / parentheses / semicolons / comment markers, case changes).
For each: `classify` raises nothing but InputError, every statement gets a phase, and every output
format renders (JSON parses back). Budget: a few seconds per test (deadline off, bounded examples).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.api import classify
from migrator.errors import InputError
from migrator.phases import Phase
from migrator.report import render

FIXTURES = Path(__file__).parents[1] / "rules" / "fixtures"

SEED_STATEMENTS = [
    "ALTER TABLE users ADD COLUMN nickname text",
    "ALTER TABLE public.users ADD COLUMN active boolean NOT NULL DEFAULT true",
    "ALTER TABLE users ADD COLUMN id2 uuid DEFAULT gen_random_uuid()",
    "ALTER TABLE ONLY users ALTER COLUMN email SET NOT NULL",
    "ALTER TABLE users ALTER COLUMN age TYPE bigint USING age::bigint",
    "ALTER TABLE users ADD CONSTRAINT users_age_ck CHECK (age >= 0) NOT VALID",
    "ALTER TABLE users VALIDATE CONSTRAINT users_age_ck",
    "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
    "ALTER TABLE \"Users\" RENAME COLUMN \"Name\" TO full_name",
    "ALTER TABLE users DROP COLUMN IF EXISTS legacy, ADD COLUMN n int",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_ix ON users (lower(email))",
    "CREATE UNIQUE INDEX users_email_uq ON users USING btree (email) WHERE deleted_at IS NULL",
    "DROP INDEX CONCURRENTLY IF EXISTS users_email_ix",
    "CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb NOT NULL)",
    "DROP TABLE IF EXISTS audit CASCADE",
    "UPDATE users SET active = true WHERE id BETWEEN 1 AND 1000 AND active IS NULL",
    "INSERT INTO users (id, name) VALUES (1, 'it''s') ON CONFLICT DO NOTHING",
    "DELETE FROM sessions WHERE created_at < now() - interval '30 days'",
    "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.t := now(); "
    "RETURN NEW; END; $$",
    "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()",
    "SET lock_timeout = '2s'",
    "BEGIN",
    "COMMIT",
    "COMMENT ON COLUMN users.email IS 'login; unique'",
    "REINDEX INDEX CONCURRENTLY users_email_ix",
    "TRUNCATE orders CASCADE",
    "CREATE TYPE mood AS ENUM ('sad', 'ok')",
    "ALTER TYPE mood ADD VALUE 'happy'",
    "VACUUM ANALYZE users",
    "GRANT SELECT ON users TO reader",
]


def _fixture_statements() -> list[str]:
    found = []
    for path in sorted(FIXTURES.glob("*.sql")):
        text = re.sub(r"(?m)^--.*$", "", path.read_text(encoding="utf-8"))
        found.extend(s.strip() for s in text.split(";") if s.strip())
    return found


CORPUS = SEED_STATEMENTS + _fixture_statements()

KEYWORDS = (
    "ALTER TABLE ADD DROP COLUMN CONSTRAINT INDEX CONCURRENTLY CREATE UNIQUE ON USING NOT NULL DEFAULT SET "
    "TYPE RENAME TO VALIDATE VALID CHECK FOREIGN KEY REFERENCES PRIMARY IF EXISTS ONLY CASCADE UPDATE INSERT "
    "INTO VALUES DELETE FROM WHERE SELECT BEGIN COMMIT ROLLBACK FUNCTION RETURNS LANGUAGE AS TRIGGER VIEW "
    "MATERIALIZED SCHEMA SEQUENCE TRUNCATE REINDEX VACUUM GRANT LOCK IN ACCESS EXCLUSIVE MODE WITH"
).split()
PUNCT = ["(", ")", ",", ";", "'", "''", '"', "$$", "$a$", "::", ".", "*", "=", "--", "/*", "*/", "\n", "E'",
         "[", "]", "\\", "%s", ":name", "?"]
WORDS = ["users", "t", "\"Quoted Name\"", "public.users", "c1", "42", "'text'", "now()", "int", "bigint", "text"]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    database=None)


def check_never_crashes(text: str) -> None:
    try:
        report = classify(text)
    except InputError:
        return
    (migration,) = report.migrations
    for s in migration.statements:
        assert isinstance(s.phase, Phase)
        if s.phase is Phase.NONE:
            assert not any(f.rule == "U000" for f in s.findings)
    assert isinstance(migration.phase, Phase)
    data = json.loads(render(report, "json"))
    assert data["version"] == 1
    assert len(data["migrations"][0]["statements"]) == len(migration.statements)
    json.loads(render(report, "sarif"))
    render(report, "github")
    render(report, "text", verbose=True)


@SETTINGS
@given(st.text(max_size=300))
def test_random_text(text):
    check_never_crashes(text)


@SETTINGS
@given(st.lists(st.sampled_from(KEYWORDS + PUNCT + WORDS), max_size=40).map(" ".join))
def test_keyword_soup(text):
    check_never_crashes(text)


@st.composite
def mutated(draw):
    statements = draw(st.lists(st.sampled_from(CORPUS), min_size=1, max_size=4))
    text = ";\n".join(statements) + ";"
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 20)))
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "case"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(PUNCT + KEYWORDS)) + text[i:]
        else:
            text = text[:i] + (text[i:j].lower() if draw(st.booleans()) else text[i:j].upper()) + text[j:]
    return text


@SETTINGS
@given(mutated())
def test_mutated_migrations(text):
    check_never_crashes(text)


def test_corpus_is_loaded():
    assert len(CORPUS) >= len(SEED_STATEMENTS)
