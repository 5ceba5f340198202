"""Database URLs for the providers: migrator.db.urls, with the provider named in errors."""

from __future__ import annotations

from migrator.db.urls import DatabaseURL, DatabaseURLError

from .errors import ProvisionError

SQLALCHEMY_DRIVER = "postgresql+psycopg"
LIBPQ_DRIVER = "postgresql"


def parse(url, provider: str | None = None) -> DatabaseURL:
    """`url` (a string, a DatabaseURL or a sqlalchemy URL) -> DatabaseURL; ProvisionError if not PostgreSQL."""
    try:
        return DatabaseURL.parse(url)
    except DatabaseURLError as exc:
        raise ProvisionError(str(exc), provider) from None


def render(url: DatabaseURL, driver: str | None = SQLALCHEMY_DRIVER, hide_password: bool = False) -> str:
    """The URL as a string; driver "postgresql" gives the plain libpq form, None keeps the URL's own driver."""
    if driver is None:
        return url.url(url.driver, hide_password=hide_password)
    scheme, _, name = driver.partition("+")
    return url.url(name or None, hide_password=hide_password, scheme=scheme or "postgresql")


def safe(url: DatabaseURL) -> str:
    """The URL with its password replaced by *** (a URL without one is shown whole)."""
    return url.safe()


def with_database(url: DatabaseURL, name: str) -> DatabaseURL:
    return url.with_database(name)


def scrub(text: str, *urls) -> str:
    """`text` with every password of `urls` (raw or URL-quoted) replaced by ***."""
    from migrator.db.urls import scrub as _scrub

    return _scrub(text, *urls)
