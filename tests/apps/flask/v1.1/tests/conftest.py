import flask_migrate
import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db


@pytest.fixture(scope="session")
def app():
    # the tests run on the schema they are given; only a fresh local database is migrated first
    app = create_app({"TESTING": True}, check_schema_on_start=False)
    with app.app_context():
        if not sa.inspect(db.engine).has_table("alembic_version"):
            flask_migrate.upgrade()
        yield app
        db.session.remove()


@pytest.fixture(autouse=True)
def clean_rows(app):
    """Rows go after each test; the schema stays."""
    yield
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user(client):
    r = client.post("/users", json={"username": "ada", "email": "ada@example.org"})
    assert r.status_code == 201
    return r.get_json()
