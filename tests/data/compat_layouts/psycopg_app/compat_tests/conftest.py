import os

import psycopg
import pytest


@pytest.fixture
def conn():
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:  # a libpq URL or nothing
        yield connection
        connection.rollback()
