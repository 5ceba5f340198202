"""Blue's suite, through migrator's pytest plugin (db_connection reads $MIGRATOR_URL_VAR = APP_DATABASE_URL)."""

import os

from sqlalchemy import text


def add(conn, title: str) -> int:
    return conn.execute(text("INSERT INTO items (title) VALUES (:t) RETURNING id"), {"t": title}).scalar_one()


def test_url_var_is_the_apps(database_url):
    assert os.environ["MIGRATOR_URL_VAR"] == "APP_DATABASE_URL"
    assert database_url == os.environ["APP_DATABASE_URL"]
    assert os.environ.get("DATABASE_URL") != database_url  # DATABASE_URL is not set by compat here
    assert "MIGRATOR_DATABASE_URL" not in os.environ  # the server's admin URL stays with migrator


def test_insert_and_read(db_connection):
    item = add(db_connection, "first")
    assert db_connection.execute(text("SELECT title FROM items WHERE id = :i"), {"i": item}).scalar_one() == "first"


def test_update(db_connection):
    item = add(db_connection, "draft")
    db_connection.execute(text("UPDATE items SET title = 'final' WHERE id = :i"), {"i": item})
    assert db_connection.execute(text("SELECT title FROM items WHERE id = :i"), {"i": item}).scalar_one() == "final"


def test_created_at_default(db_connection):
    item = add(db_connection, "dated")
    assert db_connection.execute(text("SELECT created_at IS NOT NULL FROM items WHERE id = :i"), {"i": item}).scalar_one()
