"""No migrator here: the app's own venv need not have it. Plain SQLAlchemy on DATABASE_URL."""

import os

import pytest
from sqlalchemy import create_engine


@pytest.fixture
def conn():
    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()
    engine.dispose()
