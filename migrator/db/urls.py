"""Every form of a PostgreSQL database address, parsed once and rendered safely.

    url = DatabaseURL.parse("postgresql+psycopg://app:s3cret@db:5432/shop?sslmode=require")
    url = DatabaseURL.parse("host=db port=5432 dbname=shop user=app password=s3cret")   # libpq key=value
    url.safe()            # postgresql://app:***@db:5432/shop?sslmode=require   (no password: shown whole)
    url.libpq()           # for psycopg.connect (key=value, password included)
    url.sqlalchemy()      # postgresql+psycopg://app:s3cret@db:5432/shop?sslmode=require
    url.scrub(text)       # text with the password (raw, URL-quoted) and the address itself hidden

Parsing is libpq's own (psycopg's `conninfo_to_dict`), for URLs (`postgresql://`, `postgres://`, `?password=`
in the query) and `key=value` strings alike; a SQLAlchemy `+driver` is taken off first, and a URL libpq
refuses (a SQLAlchemy-only query option) is read with SQLAlchemy's `make_url`, which migrator's own process
otherwise never imports. A scheme that is not PostgreSQL's is refused: "unsupported database URL scheme 'mysql'".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from migrator.errors import ConfigError

HIDDEN = "***"
DEFAULT_DRIVER = "psycopg"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_POSTGRES = ("postgresql", "postgres")
# libpq keywords that the URL's own parts carry (everything else goes to the query string)
_PARTS = ("host", "port", "user", "password", "dbname")


class DatabaseURLError(ConfigError):
    """An address migrator cannot use (exit 2). The message never holds the password."""


@dataclass(frozen=True)
class DatabaseURL:
    """A PostgreSQL address as libpq keywords (host, port, user, password, dbname, sslmode, ...)."""

    params: dict[str, str]
    driver: str | None = None  # the "+driver" of a SQLAlchemy URL, if it named one
    secrets: tuple[str, ...] = field(default=(), repr=False)  # every password the text held, and the text

    def __repr__(self) -> str:  # never the password, even in a traceback
        return f"DatabaseURL({self.safe()!r})"

    # -- parsing ----------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: object) -> "DatabaseURL":
        if isinstance(text, DatabaseURL):
            return text
        if not isinstance(text, str):
            text = _render_sqlalchemy_object(text)
        text = text.strip()
        if not text:
            raise DatabaseURLError("empty database URL")
        scheme = _SCHEME.match(text)
        if scheme:
            return cls._from_url(text, scheme.group(1))
        if "=" in text:
            return cls._from_conninfo(text)
        raise DatabaseURLError("not a database URL (expected postgresql://user:password@host:port/dbname or "
                               "libpq key=value pairs)")

    @classmethod
    def _from_url(cls, text: str, scheme: str) -> "DatabaseURL":
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        backend, _, driver = scheme.partition("+")
        if backend.lower() not in _POSTGRES:
            raise DatabaseURLError(f"unsupported database URL scheme {backend.lower()!r} (migrator works with "
                                   "PostgreSQL: postgresql://...)")
        plain = "postgresql://" + text[len(scheme) + 3:]
        try:
            raw = conninfo_to_dict(plain)
        except psycopg.ProgrammingError:
            return cls._from_sqlalchemy(text, driver)
        params = {k: str(v) for k, v in raw.items() if v is not None}
        passwords = _url_passwords(text)
        if "password" in params:
            passwords.append(params["password"])
        return cls(params, driver or None, _secret_forms(passwords, text))

    @classmethod
    def _from_sqlalchemy(cls, text: str, driver: str) -> "DatabaseURL":
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(text)
        except (ArgumentError, ValueError, TypeError):
            raise DatabaseURLError("not a valid database URL (expected postgresql://user:password@host:port/dbname)"
                                   ) from None
        params: dict[str, str] = {}
        passwords = []
        if url.host:
            params["host"] = url.host
        if url.port:
            params["port"] = str(url.port)
        if url.username:
            params["user"] = url.username
        if url.password is not None:
            passwords.append(str(url.password))
            params["password"] = str(url.password)
        if url.database:
            params["dbname"] = url.database
        for key, value in url.query.items():
            value = value[-1] if isinstance(value, tuple) else value  # ?host=a&host=b: libpq takes the last
            if key == "password":
                passwords.append(str(value))
            if key == "database":
                key = "dbname"
            params[key] = str(value)
        return cls(params, driver or None, _secret_forms(passwords, text))

    @classmethod
    def _from_conninfo(cls, text: str) -> "DatabaseURL":
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        try:
            raw = conninfo_to_dict(text)
        except psycopg.ProgrammingError as exc:
            # libpq names the bad keyword, never the value: safe to show
            reason = str(exc).splitlines()[0].removeprefix("invalid connection option ").strip()
            raise DatabaseURLError(f"not a valid libpq connection string: {reason}") from None
        params = {k: str(v) for k, v in raw.items() if v is not None}
        passwords = [params["password"]] if "password" in params else []
        return cls(params, None, _secret_forms(passwords, text))

    # -- parts ------------------------------------------------------------------------------------------
    @property
    def host(self) -> str | None:
        return self.params.get("host")

    @property
    def port(self) -> int:
        try:
            return int(self.params.get("port") or 5432)
        except ValueError:
            return 5432

    @property
    def user(self) -> str | None:
        return self.params.get("user")

    @property
    def password(self) -> str | None:
        return self.params.get("password")

    @property
    def database(self) -> str | None:
        return self.params.get("dbname")

    def with_database(self, name: str) -> "DatabaseURL":
        return DatabaseURL({**self.params, "dbname": name}, self.driver, self.secrets)

    def with_params(self, **changes: str | None) -> "DatabaseURL":
        params = {k: v for k, v in {**self.params, **changes}.items() if v is not None}
        return DatabaseURL(params, self.driver, self.secrets)

    # -- rendering --------------------------------------------------------------------------------------
    def libpq(self) -> str:
        """key=value for psycopg.connect / libpq (password included)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(**self.params)

    def url(self, driver: str | None = None, *, hide_password: bool = False, scheme: str = "postgresql") -> str:
        """postgresql[+driver]://user:password@host:port/dbname?rest (driver None: none)."""
        scheme = f"{scheme}+{driver}" if driver else scheme
        p = self.params
        user = quote(p["user"], safe="") if p.get("user") else ""
        if "password" in p:
            user += ":" + (HIDDEN if hide_password else quote(p["password"], safe=""))
        host = p.get("host") or ""
        in_query = {}
        if host.startswith("/") or "," in host:  # a socket folder or several hosts: libpq takes ?host=
            in_query["host"], host = host, ""
        elif ":" in host:
            host = f"[{host}]"
        netloc = (user + "@" if user else "") + host
        if p.get("port") and host:
            netloc += f":{p['port']}"
        elif p.get("port"):
            in_query["port"] = p["port"]
        rest = {**in_query, **{k: v for k, v in p.items() if k not in _PARTS}}
        query = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in rest.items())
        path = "/" + quote(p["dbname"], safe="") if p.get("dbname") else ""
        return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")

    def sqlalchemy(self, driver: str | None = None) -> str:
        """The SQLAlchemy URL with `driver` (default: the URL's own, else psycopg 3)."""
        return self.url(driver or self.driver or DEFAULT_DRIVER)

    def safe(self) -> str:
        """For people: the URL without its password (a URL that has none is shown whole)."""
        return self.url(hide_password=True)

    def scrub(self, text: str) -> str:
        """`text` with every form of the password, and the address itself, replaced by ***."""
        return scrub(text, self)

    def secret_strings(self) -> list[str]:
        """The strings to hide: every form of the password and each rendering of the address that holds it.
        An address without a password hides nothing."""
        if not self.password:
            return []
        found = set(self.secrets) | set(_secret_forms([self.password], ""))
        for render in (lambda: self.url(), lambda: self.url(self.driver), lambda: self.url(DEFAULT_DRIVER),
                       self.libpq):
            try:
                found.add(render())
            except Exception:  # noqa: BLE001 - rendering is best effort here
                pass
        return sorted((s for s in found if s), key=len, reverse=True)


def _url_passwords(text: str) -> list[str]:
    """The user-info password of a URL as written (raw and decoded): libpq keeps only the last one it reads."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(text).password
    except ValueError:
        return []
    return [p for p in {password, unquote(password)} if p] if password else []


def _secret_forms(passwords: list[str], text: str) -> tuple[str, ...]:
    forms: set[str] = set()
    for password in passwords:
        if password:
            forms |= {password, quote(password, safe=""), quote_plus(password)}
    if forms and text:
        forms.add(text)
    return tuple(sorted(forms, key=len, reverse=True))


def _render_sqlalchemy_object(url: object) -> str:
    render = getattr(url, "render_as_string", None)
    if render is None:
        raise DatabaseURLError(f"not a database URL: a {type(url).__name__}")
    return render(hide_password=False)


def parse(text: object) -> DatabaseURL:
    return DatabaseURL.parse(text)


def safe(text: object) -> str:
    """The address for people, password hidden; an unparseable one is shown as <database url>."""
    if not text:
        return ""
    try:
        return DatabaseURL.parse(text).safe()
    except Exception:  # noqa: BLE001 - never show a part of something we could not read
        return "<database url>"


def scrub(text: str, *urls: object) -> str:
    """`text` with the passwords of `urls` (any form, raw or URL-quoted) and the addresses holding them hidden."""
    secrets: set[str] = set()
    for item in urls:
        if not item:
            continue
        try:
            parsed = DatabaseURL.parse(item)
        except Exception:  # noqa: BLE001 - an unreadable address: hide it whole
            if isinstance(item, str):
                secrets.add(item)
            continue
        secrets.update(parsed.secret_strings())
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text
