"""Database URLs: parse any PostgreSQL URL form, render it for SQLAlchemy or libpq, never leak a password."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

from .errors import ProvisionError

SQLALCHEMY_DRIVER = "postgresql+psycopg"
LIBPQ_DRIVER = "postgresql"
_HIDDEN = "***"


def parse(url, provider: str | None = None):
    """`url` (str or sqlalchemy URL) -> sqlalchemy URL with the psycopg 3 driver; ProvisionError if not PostgreSQL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError):
        expected = "postgresql://user:password@host:port/dbname"
        raise ProvisionError(f"not a valid database URL (expected {expected})", provider) from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ProvisionError(f"not a PostgreSQL URL (backend {parsed.get_backend_name()!r})", provider)
    return parsed.set(drivername=SQLALCHEMY_DRIVER)


def render(url, driver: str | None = SQLALCHEMY_DRIVER, hide_password: bool = False) -> str:
    """The URL as a string; driver "postgresql" gives the plain libpq form, None keeps the URL's own driver."""
    if driver is not None:
        url = url.set(drivername=driver)
    return url.render_as_string(hide_password=hide_password)


def safe(url) -> str:
    """The URL with its password replaced by ***."""
    return render(url, None, hide_password=True)


def with_database(url, name: str):
    return url.set(database=name)


def scrub(text: str, *urls) -> str:
    """`text` with every password of `urls` (raw or URL-quoted) replaced by ***."""
    for url in urls:
        password = getattr(url, "password", None)
        if not password:
            continue
        password = str(password)
        for form in {password, quote(password, safe=""), quote_plus(password)}:
            if form:
                text = text.replace(form, _HIDDEN)
    return text
