"""Blue's suite on psycopg, no SQLAlchemy: needs DATABASE_URL as postgresql://..."""

import os


def test_url_is_libpq():
    assert os.environ["DATABASE_URL"].startswith("postgresql://")


def test_insert_and_read(conn):
    item = conn.execute("INSERT INTO items (title) VALUES (%s) RETURNING id", ("first",)).fetchone()[0]
    assert conn.execute("SELECT title FROM items WHERE id = %s", (item,)).fetchone()[0] == "first"


def test_created_at_default(conn):
    item = conn.execute("INSERT INTO items (title) VALUES ('dated') RETURNING id").fetchone()[0]
    assert conn.execute("SELECT created_at IS NOT NULL FROM items WHERE id = %s", (item,)).fetchone()[0]
