def test_create_user(client):
    r = client.post("/users", json={"username": "grace", "email": "grace@example.org"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["username"] == "grace"
    assert "legacy" not in body
    assert body["created_at"].endswith("+00:00")


def test_username_is_required(client):
    r = client.post("/users", json={"email": "x@example.org"})
    assert r.status_code == 400


def test_username_at_most_256_characters(client):
    assert client.post("/users", json={"username": "u" * 256, "email": "a@example.org"}).status_code == 201
    assert client.post("/users", json={"username": "v" * 257, "email": "b@example.org"}).status_code == 400


def test_long_usernames_are_stored_whole(client):
    name = "w" * 200
    user = client.post("/users", json={"username": name, "email": "w@example.org"}).get_json()
    assert client.get(f"/users/{user['id']}").get_json()["username"] == name


def test_email_must_look_like_one(client):
    r = client.post("/users", json={"username": "bob", "email": "not-an-email"})
    assert r.status_code == 400


def test_duplicate_username_is_a_conflict(client, user):
    r = client.post("/users", json={"username": "ada", "email": "other@example.org"})
    assert r.status_code == 409


def test_get_user(client, user):
    r = client.get(f"/users/{user['id']}")
    assert r.status_code == 200
    assert r.get_json()["email"] == "ada@example.org"


def test_get_missing_user(client):
    assert client.get("/users/424242").status_code == 404


def test_list_users(client, user):
    client.post("/users", json={"username": "bob", "email": "bob@example.org"})
    names = [u["username"] for u in client.get("/users").get_json()]
    assert names == ["ada", "bob"]


def test_body_must_be_json(client):
    r = client.post("/users", data="username=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400
