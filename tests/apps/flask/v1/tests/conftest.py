import pytest

from app import create_app
from app.extensions import db


@pytest.fixture
def app():
    app = create_app({"TESTING": True})
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user(client):
    r = client.post("/users", json={"username": "ada", "email": "ada@example.org"})
    assert r.status_code == 201
    return r.get_json()
