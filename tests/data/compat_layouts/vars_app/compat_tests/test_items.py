"""Blue's suite: connects through app.config.settings (POSTGRES_* variables), never a URL variable."""

import os

from sqlalchemy import text

from app.config import settings


def test_database_comes_from_the_variables(conn):
    assert "MIGRATOR_URL_VAR" not in os.environ  # url_var = "": no URL variable at all
    assert settings.POSTGRES_SERVER == "127.0.0.1" and settings.POSTGRES_PORT == 5432
    assert conn.execute(text("SELECT current_database()")).scalar_one() == settings.POSTGRES_DB
    assert settings.POSTGRES_DB.startswith("migrator_")


def test_insert_and_read(conn):
    item = conn.execute(text("INSERT INTO items (title) VALUES ('first') RETURNING id")).scalar_one()
    assert conn.execute(text("SELECT title FROM items WHERE id = :i"), {"i": item}).scalar_one() == "first"


def test_update(conn):
    item = conn.execute(text("INSERT INTO items (title) VALUES ('draft') RETURNING id")).scalar_one()
    conn.execute(text("UPDATE items SET title = 'final' WHERE id = :i"), {"i": item})
    assert conn.execute(text("SELECT title FROM items WHERE id = :i"), {"i": item}).scalar_one() == "final"


def test_fails_quoting_secrets_on_demand():
    """Passes unless LAYOUT_LEAK is set: then fails with the password and the URL in its message."""
    if os.environ.get("LAYOUT_LEAK"):
        raise AssertionError(f"cannot log in as {settings.POSTGRES_USER} with password {settings.POSTGRES_PASSWORD} "
                             f"at {settings.SQLALCHEMY_DATABASE_URI}; key {os.environ.get('APP_SECRET_KEY')}")
