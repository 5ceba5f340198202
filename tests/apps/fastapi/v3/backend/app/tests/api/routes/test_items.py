import uuid

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.config import settings
from app.models import Item
from app.tests.utils.item import create_random_item


def test_create_item(client: TestClient, superuser_token_headers: dict[str, str]) -> None:
    data = {"title": "Foo", "description": "Fighters"}
    response = client.post(f"{settings.API_V1_STR}/items/", headers=superuser_token_headers, json=data)
    assert response.status_code == 200
    content = response.json()
    assert content["title"] == data["title"]
    assert content["description"] == data["description"]
    assert "id" in content
    assert "owner_id" in content


def test_create_item_without_title(client: TestClient, superuser_token_headers: dict[str, str]) -> None:
    response = client.post(f"{settings.API_V1_STR}/items/", headers=superuser_token_headers, json={"title": ""})
    assert response.status_code == 422


def test_read_item(client: TestClient, superuser_token_headers: dict[str, str], db: Session) -> None:
    item = create_random_item(db)
    response = client.get(f"{settings.API_V1_STR}/items/{item.id}", headers=superuser_token_headers)
    assert response.status_code == 200
    content = response.json()
    assert content["title"] == item.title
    assert content["description"] == item.description
    assert content["id"] == str(item.id)
    assert content["owner_id"] == str(item.owner_id)


def test_read_item_not_found(client: TestClient, superuser_token_headers: dict[str, str]) -> None:
    response = client.get(f"{settings.API_V1_STR}/items/{uuid.uuid4()}", headers=superuser_token_headers)
    assert response.status_code == 404
    content = response.json()
    assert content["detail"] == "Item not found"


def test_read_item_not_enough_permissions(
    client: TestClient, normal_user_token_headers: dict[str, str], db: Session
) -> None:
    item = create_random_item(db)
    response = client.get(f"{settings.API_V1_STR}/items/{item.id}", headers=normal_user_token_headers)
    assert response.status_code == 400
    content = response.json()
    assert content["detail"] == "Not enough permissions"


def test_read_items(client: TestClient, superuser_token_headers: dict[str, str], db: Session) -> None:
    create_random_item(db)
    create_random_item(db)
    response = client.get(f"{settings.API_V1_STR}/items/", headers=superuser_token_headers)
    assert response.status_code == 200
    content = response.json()
    assert content["count"] == 2
    assert len(content["data"]) == 2


def test_read_items_only_own(client: TestClient, normal_user_token_headers: dict[str, str], db: Session) -> None:
    create_random_item(db)
    r = client.post(f"{settings.API_V1_STR}/items/", headers=normal_user_token_headers, json={"title": "mine"})
    assert r.status_code == 200
    response = client.get(f"{settings.API_V1_STR}/items/", headers=normal_user_token_headers)
    content = response.json()
    assert content["count"] == 1
    assert [i["title"] for i in content["data"]] == ["mine"]


def test_update_item(client: TestClient, superuser_token_headers: dict[str, str], db: Session) -> None:
    item = create_random_item(db)
    data = {"title": "Updated title", "description": "Updated description"}
    response = client.put(f"{settings.API_V1_STR}/items/{item.id}", headers=superuser_token_headers, json=data)
    assert response.status_code == 200
    content = response.json()
    assert content["title"] == data["title"]
    assert content["description"] == data["description"]
    assert content["id"] == str(item.id)
    assert content["owner_id"] == str(item.owner_id)


def test_update_item_not_found(client: TestClient, superuser_token_headers: dict[str, str]) -> None:
    data = {"title": "Updated title", "description": "Updated description"}
    response = client.put(f"{settings.API_V1_STR}/items/{uuid.uuid4()}", headers=superuser_token_headers, json=data)
    assert response.status_code == 404
    assert response.json()["detail"] == "Item not found"


def test_update_item_not_enough_permissions(
    client: TestClient, normal_user_token_headers: dict[str, str], db: Session
) -> None:
    item = create_random_item(db)
    data = {"title": "Updated title", "description": "Updated description"}
    response = client.put(f"{settings.API_V1_STR}/items/{item.id}", headers=normal_user_token_headers, json=data)
    assert response.status_code == 400
    assert response.json()["detail"] == "Not enough permissions"


def test_delete_item(client: TestClient, superuser_token_headers: dict[str, str], db: Session) -> None:
    item = create_random_item(db)
    item_id = item.id
    response = client.delete(f"{settings.API_V1_STR}/items/{item_id}", headers=superuser_token_headers)
    assert response.status_code == 200
    assert response.json()["message"] == "Item deleted successfully"
    db.expire_all()
    assert db.get(Item, item_id) is None


def test_delete_item_not_found(client: TestClient, superuser_token_headers: dict[str, str]) -> None:
    response = client.delete(f"{settings.API_V1_STR}/items/{uuid.uuid4()}", headers=superuser_token_headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "Item not found"


def test_delete_item_not_enough_permissions(
    client: TestClient, normal_user_token_headers: dict[str, str], db: Session
) -> None:
    item = create_random_item(db)
    response = client.delete(f"{settings.API_V1_STR}/items/{item.id}", headers=normal_user_token_headers)
    assert response.status_code == 400
    assert response.json()["detail"] == "Not enough permissions"
