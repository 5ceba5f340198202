"""The fixture apps: their histories and releases (the sources are the overlay folders beside this file)."""

from __future__ import annotations

from tests.apps._model import AppSpec, Release, Version

FASTAPI = AppSpec(
    name="fastapi",
    project_dir="backend",
    requirements=("backend/requirements.txt",),
    summary="FastAPI + SQLModel backend modelled on tiangolo/full-stack-fastapi-template",
    env={"SECRET_KEY": "test-secret-key"},
    versions=(
        Version("v1", ("v1",), "Users and items: SQLModel models, CRUD, API, alembic, tests"),
        Version("v2", ("v2",), "Users get an optional phone number"),
        Version("v3", ("v3",), "Use UUIDs for user and item ids"),
        Version("v4", ("v4",), "Item titles are at most 128 characters"),
        Version("v5", ("v5",), "Deleting a user deletes their items (ON DELETE CASCADE)"),
        Version("v5-naive", ("v5", "v5-naive"), "Deleting a user deletes their items: cascade FK beside the old one",
                base="v4", branch="naive-cascade"),
    ),
    releases=(
        Release("nullable-column", "v1", "v2", "pass",
                "adds the nullable column user.phone (expand); green reads and writes it",
                expanded="3f1c5e0a9b21"),
        Release("uuid-ids", "v2", "v3", "refused",
                "integer ids become UUIDs: the expand revision adds and fills uuid columns, the contract revision "
                "drops the integer keys and renames the uuid columns into place; green's models use uuid ids, so "
                "green fails on the expanded schema and needs the held-back contract revision: no safe order",
                expanded="d98dd8ec85a3", held_back=("7a4c2b9e1f05",)),
        Release("narrow-title", "v3", "v4", "pass",
                "item.title VARCHAR(255) -> VARCHAR(128) in a held-back contract revision; green validates the "
                "length itself; its test that the database rejects 129 characters is marked migrator_contracted",
                expanded="7a4c2b9e1f05", held_back=("5b6e8f0c2d17",)),
        Release("fk-cascade", "v4", "v5", "pass",
                "item.owner_id's FK re-created ON DELETE CASCADE: the expand revision makes the old FK DEFERRABLE "
                "INITIALLY DEFERRED and adds the cascading FK NOT VALID, then validates it; the contract revision "
                "drops the old FK. Green's delete_user relies on the cascade and works on the expanded schema",
                expanded="a8c1d3e5f7b9", held_back=("c2e4f6a8b0d1",)),
        Release("fk-cascade-naive", "v4", "v5-naive", "refused",
                "the same release without the DEFERRABLE step: with the old NO ACTION FK still there, deleting a "
                "user who has items fails (PostgreSQL fires both FKs' triggers), so green fails on the expanded "
                "schema and needs the held-back drop: no safe order",
                expanded="a8c1d3e5f7b9", held_back=("c2e4f6a8b0d1",)),
    ),
)

FLASK = AppSpec(
    name="flask",
    project_dir=".",
    requirements=("requirements.txt",),
    summary="Flask + Flask-SQLAlchemy + Flask-Migrate on SQLAlchemy 1.4 / alembic 1.7.7 / psycopg2",
    versions=(
        Version("v1", ("v1",), "microblog: users and posts; the app migrates the database at start-up"),
        Version("v2", ("v2",), "Longer usernames (256); drop legacy_flag: every account may post"),
        Version("v1.1", ("v1.1",), "Revert the widen-and-drop release: blue could not restart during it. "
                "Check the schema at start-up (migrator.startup) instead of migrating; tests keep the schema",
                base="v1"),
        Version("v2.1", ("v2",), "Longer usernames (256); drop legacy_flag (again, on the fixed start-up)",
                base="v1.1"),
    ),
    releases=(
        Release("widen-and-drop", "v1", "v2", "blue-startup-migration",
                "users.username VARCHAR(128) -> VARCHAR(256) (expand; the old type comes from revision 1f2e3d4c5b6a, "
                "not from this release) and DROP COLUMN legacy_flag (contract, held back). Blue's create_app() "
                "runs flask_migrate.upgrade() at start-up and cannot start on the expanded database (\"Can't "
                "locate revision\"); blue's suite does create_all()/drop_all() around every test, so after the "
                "first test it no longer runs on the schema under test",
                expanded="4c5d6e7f8091", held_back=("5d6e7f8091a2",)),
        Release("widen-and-drop-fixed", "v1.1", "v2.1", "pass",
                "the same two revisions after the fix: the app checks the schema at start-up "
                "(migrator.startup.check_schema) and the suite keeps the schema (rows cleaned per test)",
                expanded="4c5d6e7f8091", held_back=("5d6e7f8091a2",)),
    ),
)

ASYNCPG = AppSpec(
    name="asyncpg",
    project_dir=".",
    requirements=("requirements.txt",),
    summary="SQLAlchemy 2.0 asyncio + asyncpg (its only driver), alembic's async env.py",
    versions=(
        Version("v1", ("v1",), "notes: add, list, search, delete (SQLAlchemy asyncio on asyncpg)"),
        Version("v2", ("v2",), "Notes get an optional color"),
        Version("v3", ("v3",), "Notes have an author"),
    ),
    releases=(
        Release("nullable-column", "v1", "v2", "pass", "adds the nullable column notes.color (expand)",
                expanded="1b2c3d4e5f60"),
        Release("not-null-column", "v2", "v3", "refused",
                "adds notes.author NOT NULL without a default in one revision (C301: contract, held back), used "
                "at once by green: green fails on the expanded schema (no author column), and blue fails on a "
                "schema with the revision applied (its inserts omit author): no safe order",
                expanded="1b2c3d4e5f60", held_back=("2c3d4e5f6071",)),
    ),
)

APPS: dict[str, AppSpec] = {app.name: app for app in (FASTAPI, FLASK, ASYNCPG)}
