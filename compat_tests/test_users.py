"""Blue's user queries: insert, rename and read users by `name`."""

from sqlalchemy import text


def add_user(conn, name: str, email: str) -> int:
    return conn.execute(
        text("INSERT INTO users (name, email) VALUES (:name, :email) RETURNING id"),
        {"name": name, "email": email},
    ).scalar_one()


def test_insert_and_read_back(db_connection):
    user_id = add_user(db_connection, "Ada Lovelace", "ada@example.com")
    row = db_connection.execute(text("SELECT name, email FROM users WHERE id = :id"), {"id": user_id}).one()
    assert row.name == "Ada Lovelace"
    assert row.email == "ada@example.com"


def test_rename_user(db_connection):
    user_id = add_user(db_connection, "Grace Murray", "grace@example.com")
    db_connection.execute(text("UPDATE users SET name = :name WHERE id = :id"), {"name": "Grace Hopper", "id": user_id})
    assert db_connection.execute(text("SELECT name FROM users WHERE id = :id"), {"id": user_id}).scalar_one() == "Grace Hopper"


def test_find_by_name(db_connection):
    add_user(db_connection, "Alan Turing", "alan@example.com")
    add_user(db_connection, "Alonzo Church", "alonzo@example.com")
    names = db_connection.execute(text("SELECT name FROM users WHERE name LIKE 'Al%' ORDER BY name")).scalars().all()
    assert names == ["Alan Turing", "Alonzo Church"]


def test_email_is_unique(db_connection):
    import pytest
    from sqlalchemy.exc import IntegrityError

    add_user(db_connection, "Edsger Dijkstra", "edsger@example.com")
    with pytest.raises(IntegrityError):
        with db_connection.begin_nested():
            add_user(db_connection, "Someone Else", "edsger@example.com")


def test_created_at_defaults_to_now(db_connection):
    user_id = add_user(db_connection, "Barbara Liskov", "barbara@example.com")
    age = db_connection.execute(
        text("SELECT now() - created_at FROM users WHERE id = :id"), {"id": user_id}).scalar_one()
    assert age.total_seconds() < 60
