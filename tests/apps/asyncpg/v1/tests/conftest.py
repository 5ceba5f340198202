import pytest
from sqlalchemy import text

from tests.support import run


@pytest.fixture(autouse=True)
def clean_rows():
    """Rows go after each test; the schema stays."""
    yield

    async def wipe(session):
        await session.execute(text("DELETE FROM notes"))
        await session.commit()

    run(wipe)
