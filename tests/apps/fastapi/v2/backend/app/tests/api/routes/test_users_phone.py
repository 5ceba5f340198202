from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import crud
from app.core.config import settings
from app.models import User, UserCreate
from app.tests.utils.utils import random_email, random_lower_string


def test_register_user_with_phone(client: TestClient, db: Session) -> None:
    email = random_email()
    data = {"email": email, "password": random_lower_string(), "phone": "+41 44 668 18 00"}
    r = client.post(f"{settings.API_V1_STR}/users/signup", json=data)
    assert r.status_code == 200
    assert r.json()["phone"] == "+41 44 668 18 00"
    user_db = db.exec(select(User).where(User.email == email)).first()
    assert user_db is not None and user_db.phone == "+41 44 668 18 00"


def test_update_own_phone(client: TestClient, normal_user_token_headers: dict[str, str], db: Session) -> None:
    r = client.patch(f"{settings.API_V1_STR}/users/me", headers=normal_user_token_headers, json={"phone": "555-0100"})
    assert r.status_code == 200
    assert r.json()["phone"] == "555-0100"
    db.expire_all()
    user_db = crud.get_user_by_email(session=db, email=settings.EMAIL_TEST_USER)
    assert user_db is not None and user_db.phone == "555-0100"


def test_phone_is_optional(db: Session) -> None:
    user = crud.create_user(session=db, user_create=UserCreate(email=random_email(), password=random_lower_string()))
    assert user.phone is None


def test_phone_too_long_is_rejected(client: TestClient, normal_user_token_headers: dict[str, str]) -> None:
    r = client.patch(f"{settings.API_V1_STR}/users/me", headers=normal_user_token_headers, json={"phone": "1" * 33})
    assert r.status_code == 422
