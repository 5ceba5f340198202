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

APPS: dict[str, AppSpec] = {app.name: app for app in (FASTAPI,)}
