"""Green's order queries: place orders and report totals per user name."""

from sqlalchemy import text


def test_place_order_and_report_by_name(db_connection):
    user_id = db_connection.execute(
        text("INSERT INTO users (full_name, email) VALUES ('Ken Thompson', 'ken@example.com') RETURNING id")).scalar_one()
    for cents in (1250, 799):
        db_connection.execute(text("INSERT INTO orders (user_id, total_cents) VALUES (:u, :c)"),
                              {"u": user_id, "c": cents})
    row = db_connection.execute(text(
        "SELECT u.full_name AS name, sum(o.total_cents) AS total FROM orders o JOIN users u ON u.id = o.user_id "
        "WHERE u.id = :u GROUP BY u.full_name"), {"u": user_id}).one()
    assert (row.name, row.total) == ("Ken Thompson", 2049)


def test_order_needs_a_user(db_connection):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db_connection.begin_nested():
            db_connection.execute(text("INSERT INTO orders (user_id, total_cents) VALUES (-1, 100)"))
