import pytest
from sqlalchemy import create_engine

from app.config import settings


@pytest.fixture
def conn():
    engine = create_engine(settings.SQLALCHEMY_DATABASE_URI)
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()
    engine.dispose()
