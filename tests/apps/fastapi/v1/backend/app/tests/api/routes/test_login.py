from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import settings
from app.core.security import verify_password
from app.crud import create_user
from app.models import UserCreate
from app.tests.utils.utils import random_email, random_lower_string


def test_get_access_token(client: TestClient) -> None:
    login_data = {
        "username": settings.FIRST_SUPERUSER,
        "password": settings.FIRST_SUPERUSER_PASSWORD,
    }
    r = client.post(f"{settings.API_V1_STR}/login/access-token", json=login_data)
    tokens = r.json()
    assert r.status_code == 200
    assert "access_token" in tokens
    assert tokens["access_token"]


def test_get_access_token_incorrect_password(client: TestClient) -> None:
    login_data = {
        "username": settings.FIRST_SUPERUSER,
        "password": "incorrect",
    }
    r = client.post(f"{settings.API_V1_STR}/login/access-token", json=login_data)
    assert r.status_code == 400


def test_use_access_token(client: TestClient, superuser_token_headers: dict[str, str]) -> None:
    r = client.post(f"{settings.API_V1_STR}/login/test-token", headers=superuser_token_headers)
    result = r.json()
    assert r.status_code == 200
    assert "email" in result


def test_login_inactive_user(client: TestClient, db: Session) -> None:
    email = random_email()
    password = random_lower_string()
    create_user(session=db, user_create=UserCreate(email=email, password=password, is_active=False))
    r = client.post(f"{settings.API_V1_STR}/login/access-token", json={"username": email, "password": password})
    assert r.status_code == 400
    assert r.json()["detail"] == "Inactive user"


def test_password_is_stored_hashed(db: Session) -> None:
    email = random_email()
    password = random_lower_string()
    user = create_user(session=db, user_create=UserCreate(email=email, password=password))
    assert user.hashed_password != password
    assert verify_password(password, user.hashed_password)


def test_missing_token_is_rejected(client: TestClient) -> None:
    r = client.get(f"{settings.API_V1_STR}/users/me")
    assert r.status_code == 401
