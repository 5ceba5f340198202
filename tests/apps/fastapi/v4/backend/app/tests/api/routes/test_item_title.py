import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError
from sqlmodel import Session, text

from app.core.config import settings
from app.tests.utils.item import create_random_item
from app.tests.utils.user import create_random_user


def test_title_of_128_characters_is_accepted(client: TestClient, superuser_token_headers: dict[str, str]) -> None:
    r = client.post(f"{settings.API_V1_STR}/items/", headers=superuser_token_headers, json={"title": "t" * 128})
    assert r.status_code == 200
    assert r.json()["title"] == "t" * 128


def test_title_of_129_characters_is_rejected(client: TestClient, superuser_token_headers: dict[str, str]) -> None:
    r = client.post(f"{settings.API_V1_STR}/items/", headers=superuser_token_headers, json={"title": "t" * 129})
    assert r.status_code == 422


def test_update_title_too_long_is_rejected(
    client: TestClient, superuser_token_headers: dict[str, str], db: Session
) -> None:
    item = create_random_item(db)
    r = client.put(f"{settings.API_V1_STR}/items/{item.id}", headers=superuser_token_headers, json={"title": "t" * 129})
    assert r.status_code == 422


@pytest.mark.migrator_contracted
def test_database_rejects_long_title(db: Session) -> None:
    owner = create_random_user(db)
    with pytest.raises(DataError):
        db.exec(  # type: ignore[call-overload]
            text("INSERT INTO item (id, title, owner_id) VALUES (gen_random_uuid(), :title, :owner)"),
            params={"title": "t" * 129, "owner": owner.id},
        )
    db.rollback()
