"""The throwaway database as environment variables for the app under test (its suite and its alembic env).

    env = render_env(db.url, url_var="DATABASE_URL", url_form="postgresql",
                     env_map={"POSTGRES_SERVER": "{host}", "POSTGRES_PASSWORD": "{password}"},
                     extra=parse_env_pairs(["APP_ENV=test"]))
    log.info("env: %s", redact(env, db.url))        # values of password-bearing variables become ***

`env_map` values are templates with the placeholders {host} {port} {user} {password} {database} {url}
(`{{` and `}}` for literal braces); `extra` values (--env KEY=VALUE, [tool.migrator.compat.env]) are
taken literally and win over both. MIGRATOR_URL_VAR names `url_var` for migrator's pytest plugin.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote

from migrator.errors import ConfigError


class AppEnvError(ConfigError):
    """The app's environment cannot be made from these settings (exit 2)."""

PLACEHOLDERS = ("host", "port", "user", "password", "database", "url")
URL_VAR_ENV = "MIGRATOR_URL_VAR"  # read by migrator.pytest_plugin: the name of the variable holding the URL
HIDDEN = "***"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORM = re.compile(r"postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?")
# variables whose value is secret whatever it holds (an app's own SECRET_KEY, API tokens passed with --env)
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PGPASS|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY|API_KEY|ACCESS_KEY", re.I)
_formatter = string.Formatter()


def _parse_url(db_url):
    from migrator.db.urls import DatabaseURL, DatabaseURLError

    try:
        return DatabaseURL.parse(db_url)
    except DatabaseURLError as exc:
        raise AppEnvError(str(exc)) from None


def check_name(name: str, what: str = "environment variable") -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise AppEnvError(f"invalid {what} name {name!r} (expected letters, digits and _, not starting with a digit)")
    return name


def url_parts(db_url, url_form: str = "postgresql+psycopg") -> dict[str, str]:
    """The values of the placeholders for `db_url`, the URL itself rendered in `url_form`."""
    if not isinstance(url_form, str) or not _FORM.fullmatch(url_form):
        raise AppEnvError(f"unknown URL form {url_form!r} (expected postgresql+psycopg, postgresql, postgres, "
                          "postgresql+<driver>)")
    url = _parse_url(db_url)
    scheme, _, driver = url_form.partition("+")
    return {
        "host": (url.host or "").split(",")[0],  # several hosts: the first
        "port": str(url.port),
        "user": url.user or "",
        "password": url.password or "",
        "database": url.database or "",
        "url": url.url(driver or None, scheme=scheme),
    }


def render_template(key: str, template: str, parts: Mapping[str, str]) -> str:
    """`template` with its placeholders filled from `parts`; AppEnvError naming `key` for anything else."""
    if not isinstance(template, str):
        raise AppEnvError(f"env_map: value of {key} must be a string, got {type(template).__name__}")
    try:
        for _, f, spec, conv in _formatter.parse(template):
            if f is not None and (f not in PLACEHOLDERS or spec or conv):
                allowed = " ".join("{" + p + "}" for p in PLACEHOLDERS)
                shown = "{" + f + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
                raise AppEnvError(f"env_map: {key} uses unknown placeholder {shown} (allowed: {allowed}; "
                                  "write {{ and }} for literal braces)")
    except ValueError as exc:  # "Single '}' encountered", "unmatched '{'"
        raise AppEnvError(f"env_map: bad template for {key}: {exc} (write {{{{ and }}}} for literal braces)") from None
    return template.format_map(parts)


def render_env(db_url, url_var: str | None = "DATABASE_URL", url_form: str = "postgresql+psycopg",
               env_map: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables to add to the app's environment: `url_var` (None or "" for none) holding the URL in
    `url_form`, then `env_map` rendered, then `extra` literally. Holds the password: see secret_names()."""
    parts = url_parts(db_url, url_form)
    env: dict[str, str] = {}
    if url_var:
        env[check_name(url_var, "url_var")] = parts["url"]
        env[URL_VAR_ENV] = url_var
    for key, template in (env_map or {}).items():
        env[check_name(key, "env_map variable")] = render_template(key, template, parts)
    for key, value in (extra or {}).items():
        if not isinstance(value, str):
            raise AppEnvError(f"env: value of {check_name(key)} must be a string, got {type(value).__name__}")
        env[check_name(key)] = value
    return env


def parse_env_pairs(pairs: Iterable[str] | None, option: str = "--env") -> dict[str, str]:
    """["KEY=VALUE", ...] (repeatable --env) -> {KEY: VALUE}; the value may hold "=" and be empty; later wins."""
    env: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep:  # never echo the value: it may be a secret
            raise AppEnvError(f"{option} expects KEY=VALUE, got an argument without '='")
        key = key.strip()
        if not key:
            raise AppEnvError(f"{option} expects KEY=VALUE, got an empty KEY")
        if not _NAME.fullmatch(key):
            raise AppEnvError(f"{option} expects KEY=VALUE with KEY made of letters, digits and _, got KEY {key!r}")
        env[key] = value
    return env


def _password_forms(db_url) -> set[str]:
    if db_url is None:
        return set()
    password = _parse_url(db_url).password
    if not password:
        return set()
    password = str(password)
    return {form for form in (password, quote(password, safe=""), quote_plus(password)) if form}


def secret_names(env: Mapping[str, str], db_url=None) -> set[str]:
    """Names of the variables whose values must not be shown: those holding a password (of `db_url`, or of
    a URL among the values: raw or URL-quoted) and those named like a secret (*PASSWORD*, *SECRET*, *TOKEN*...)."""
    forms = _password_forms(db_url)
    for value in env.values():
        for match in _URL_PASSWORD.finditer(str(value)):
            forms |= {form for form in (match.group(1), unquote(match.group(1))) if form}
    return {key for key, value in env.items()
            if _SECRET_NAME.search(key) or any(form in str(value) for form in forms)}


_URL_PASSWORD = re.compile(r"://[^/@\s:]*:([^/@\s]+)@")


def redact(env: Mapping[str, str], db_url=None) -> dict[str, str]:
    """`env` with the values of secret_names() replaced by ***: safe to log or to write to evidence."""
    hidden = secret_names(env, db_url)
    return {key: HIDDEN if key in hidden else str(value) for key, value in env.items()}
