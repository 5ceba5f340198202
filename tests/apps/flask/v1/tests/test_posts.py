def test_create_post(client, user):
    r = client.post(f"/users/{user['id']}/posts", json={"title": "Hello", "body": "First post"})
    assert r.status_code == 201
    post = r.get_json()
    assert post["title"] == "Hello"
    assert post["author_id"] == user["id"]


def test_post_title_limit(client, user):
    url = f"/users/{user['id']}/posts"
    assert client.post(url, json={"title": "t" * 200}).status_code == 201
    assert client.post(url, json={"title": "t" * 201}).status_code == 400


def test_post_needs_existing_user(client):
    assert client.post("/users/424242/posts", json={"title": "x"}).status_code == 404


def test_legacy_accounts_cannot_post(client):
    legacy = client.post("/users", json={"username": "old", "email": "old@example.org", "legacy": True}).get_json()
    r = client.post(f"/users/{legacy['id']}/posts", json={"title": "Back again"})
    assert r.status_code == 403


def test_posts_of_user(client, user):
    for title in ("one", "two"):
        client.post(f"/users/{user['id']}/posts", json={"title": title})
    titles = [p["title"] for p in client.get(f"/users/{user['id']}/posts").get_json()]
    assert titles == ["one", "two"]


def test_latest_posts_first(client, user):
    for title in ("older", "newer"):
        client.post(f"/users/{user['id']}/posts", json={"title": title})
    titles = [p["title"] for p in client.get("/posts").get_json()]
    assert titles == ["newer", "older"]


def test_delete_post(client, user):
    post = client.post(f"/users/{user['id']}/posts", json={"title": "gone soon"}).get_json()
    assert client.delete(f"/posts/{post['id']}").status_code == 204
    assert client.get(f"/users/{user['id']}/posts").get_json() == []


def test_health(client):
    assert client.get("/health").get_json() == {"status": "ok"}
