"""migrator.db.urls: every address form parsed once, rendered without its password."""

import pytest

from migrator.db.urls import DatabaseURL, DatabaseURLError, safe, scrub

FORMS = [
    ("postgresql+psycopg://app:s%40cret@db:5432/shop?sslmode=require", "s@cret"),
    ("postgres://app@db/shop?password=s3cret", "s3cret"),
    ("postgresql://app:first@db/shop?password=s3cret", "s3cret"),
    ("host=db dbname=shop user=app password='s3 cret'", "s3 cret"),
    ("postgresql://app:s3cret@/shop?host=/var/run/postgresql", "s3cret"),
]


@pytest.mark.parametrize("text,password", FORMS)
def test_every_form_hides_its_password(text, password):
    url = DatabaseURL.parse(text)
    assert url.password == password
    assert password not in url.safe() and "***" in url.safe()
    assert password not in repr(url)
    leaked = f"could not connect to {text} (password {password})"
    assert password not in scrub(leaked, text)
    assert text not in scrub(leaked, text)


@pytest.mark.parametrize("text,password", FORMS)
def test_renderings_keep_the_address(text, password):
    url = DatabaseURL.parse(text)
    again = DatabaseURL.parse(url.sqlalchemy())
    assert again.params == url.params
    assert DatabaseURL.parse(url.libpq()).params == url.params


def test_url_without_password_is_shown_whole():
    assert safe("postgresql://postgres@127.0.0.1:5432/x") == "postgresql://postgres@127.0.0.1:5432/x"
    assert scrub("at postgresql://postgres@127.0.0.1:5432/x", "postgresql://postgres@127.0.0.1:5432/x") == \
        "at postgresql://postgres@127.0.0.1:5432/x"


@pytest.mark.parametrize("text,message", [
    ("mysql://root@localhost/x", "unsupported database URL scheme 'mysql'"),
    ("mysql+pymysql://root:pw@localhost/x", "unsupported database URL scheme 'mysql'"),
    ("nonsense", "not a database URL"),
    ("host=db nokey=1 password=s3cret", "not a valid libpq connection string"),
])
def test_bad_addresses_are_one_line_errors(text, message):
    with pytest.raises(DatabaseURLError) as info:
        DatabaseURL.parse(text)
    assert message in str(info.value)
    assert "s3cret" not in str(info.value) and "pw" not in str(info.value).replace("PostgreSQL", "")
