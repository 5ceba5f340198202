"""Blue's suite: proves it runs under the interpreter given with --python."""

import os
import sys
from pathlib import Path

from sqlalchemy import text


def test_runs_in_the_apps_venv():
    expected = Path(os.environ["EXPECTED_PREFIX"]).resolve()
    assert Path(sys.prefix).resolve() == expected, f"suite ran under {sys.prefix}, not {expected}"
    import compat_venv_marker  # installed only in that venv's site-packages

    assert Path(compat_venv_marker.__file__).resolve().is_relative_to(expected)


def test_insert_and_read(conn):
    item = conn.execute(text("INSERT INTO items (title) VALUES ('first') RETURNING id")).scalar_one()
    assert conn.execute(text("SELECT title FROM items WHERE id = :i"), {"i": item}).scalar_one() == "first"


def test_created_at_default(conn):
    item = conn.execute(text("INSERT INTO items (title) VALUES ('dated') RETURNING id")).scalar_one()
    assert conn.execute(text("SELECT created_at IS NOT NULL FROM items WHERE id = :i"), {"i": item}).scalar_one()
