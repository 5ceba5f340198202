"""migrator.runner.appenv: the throwaway database rendered into the app's environment variables."""

from __future__ import annotations

import pytest

from migrator.runner.appenv import AppEnvError, parse_env_pairs, redact, render_env, secret_names, url_parts
from migrator.errors import MigratorError

URL = "postgresql+psycopg://app:s3cr%40t@db.internal:6543/migrator_check_1"
MAP = {
    "POSTGRES_SERVER": "{host}",
    "POSTGRES_PORT": "{port}",
    "POSTGRES_USER": "{user}",
    "POSTGRES_PASSWORD": "{password}",
    "POSTGRES_DB": "{database}",
}


def test_default_url_var_and_form():
    env = render_env(URL)
    assert env["DATABASE_URL"] == "postgresql+psycopg://app:s3cr%40t@db.internal:6543/migrator_check_1"
    assert env["MIGRATOR_URL_VAR"] == "DATABASE_URL"  # tells migrator's pytest plugin where to look
    assert set(env) == {"DATABASE_URL", "MIGRATOR_URL_VAR"}


@pytest.mark.parametrize("form, prefix", [
    ("postgresql", "postgresql://"),
    ("postgres", "postgres://"),
    ("postgresql+psycopg", "postgresql+psycopg://"),
    ("postgresql+psycopg2", "postgresql+psycopg2://"),
    ("postgresql+asyncpg", "postgresql+asyncpg://"),
])
def test_url_forms(form, prefix):
    env = render_env("postgresql://u:p@h/db", "APP_DB", form)
    assert env["APP_DB"] == f"{prefix}u:p@h/db"
    assert env["MIGRATOR_URL_VAR"] == "APP_DB"


def test_env_map_renders_every_placeholder():
    env = render_env(URL, env_map={**MAP, "DSN": "host={host} port={port} dbname={database}", "U": "{url}",
                                   "JSON": '{{"host": "{host}"}}'})
    assert env["POSTGRES_SERVER"] == "db.internal"
    assert env["POSTGRES_PORT"] == "6543"
    assert env["POSTGRES_USER"] == "app"
    assert env["POSTGRES_PASSWORD"] == "s3cr@t"  # decoded, as the app's driver expects it
    assert env["POSTGRES_DB"] == "migrator_check_1"
    assert env["DSN"] == "host=db.internal port=6543 dbname=migrator_check_1"
    assert env["U"] == env["DATABASE_URL"]
    assert env["JSON"] == '{"host": "db.internal"}'


def test_url_form_applies_to_the_url_placeholder():
    env = render_env(URL, "DATABASE_URL", "postgresql", {"OTHER": "{url}"})
    assert env["OTHER"] == env["DATABASE_URL"] == "postgresql://app:s3cr%40t@db.internal:6543/migrator_check_1"


def test_defaults_for_missing_parts():
    parts = url_parts("postgresql:///mydb")
    assert parts == {"host": "", "port": "5432", "user": "", "password": "", "database": "mydb",
                     "url": "postgresql+psycopg:///mydb"}
    assert url_parts("postgresql://u@/db?host=/var/run/postgresql")["host"] == "/var/run/postgresql"


def test_no_url_var_only_the_map():
    env = render_env(URL, url_var=None, env_map={"PGHOST": "{host}"})
    assert env == {"PGHOST": "db.internal"}


def test_extra_is_literal_and_wins():
    env = render_env(URL, env_map={"APP_ENV": "{host}"}, extra={"APP_ENV": "test", "BRACES": "{host}", "DATABASE_URL": "x"})
    assert env["APP_ENV"] == "test"
    assert env["BRACES"] == "{host}"
    assert env["DATABASE_URL"] == "x"


@pytest.mark.parametrize("template, needle", [
    ("{hostname}", "unknown placeholder {hostname}"),
    ("{HOST}", "unknown placeholder {HOST}"),
    ("{0}", "unknown placeholder {0}"),
    ("{}", "unknown placeholder {}"),
    ("{host:>10}", "unknown placeholder {host:>10}"),
    ("{host!r}", "unknown placeholder {host!r}"),
    ("{host.upper}", "unknown placeholder {host.upper}"),
    ("{port[0]}", "unknown placeholder {port[0]}"),
    ("{host", "bad template for K"),
    ("host}", "bad template for K"),
])
def test_bad_templates(template, needle):
    with pytest.raises(AppEnvError) as info:
        render_env(URL, env_map={"K": template})
    message = str(info.value)
    assert needle in message
    assert "\n" not in message
    assert "s3cr" not in message
    assert isinstance(info.value, MigratorError) and info.value.exit_code == 2


@pytest.mark.parametrize("kwargs, needle", [
    ({"url_form": "mysql"}, "unknown URL form 'mysql'"),
    ({"url_form": "postgresql+"}, "unknown URL form"),
    ({"url_var": "DATABASE-URL"}, "invalid url_var name 'DATABASE-URL'"),
    ({"url_var": "1DB"}, "invalid url_var name"),
    ({"env_map": {"BAD NAME": "{host}"}}, "invalid env_map variable name 'BAD NAME'"),
    ({"env_map": {"PORT": 5432}}, "env_map: value of PORT must be a string"),
    ({"extra": {"A=B": "c"}}, "invalid environment variable name 'A=B'"),
    ({"extra": {"N": 1}}, "value of N must be a string"),
])
def test_bad_arguments(kwargs, needle):
    with pytest.raises(AppEnvError) as info:
        render_env(URL, **kwargs)
    assert needle in str(info.value)


def test_bad_url():
    with pytest.raises(AppEnvError, match="not a database URL"):
        render_env("not a url at all")


def test_parse_env_pairs():
    assert parse_env_pairs(["A=1", "B=x=y", "C=", "A=2", " D =v"]) == {"A": "2", "B": "x=y", "C": "", "D": "v"}
    assert parse_env_pairs([]) == {} and parse_env_pairs(None) == {}


@pytest.mark.parametrize("pair, message", [
    ("NOVALUE", "--env expects KEY=VALUE, got an argument without '='"),
    ("=value", "--env expects KEY=VALUE, got an empty KEY"),
    ("MY-KEY=topsecret", "--env expects KEY=VALUE with KEY made of letters, digits and _, got KEY 'MY-KEY'"),
])
def test_parse_env_pairs_errors(pair, message):
    with pytest.raises(AppEnvError) as info:
        parse_env_pairs(["OK=1", pair])
    assert str(info.value) == message
    assert "topsecret" not in str(info.value)  # a value is never echoed


def test_secret_names_and_redact():
    env = render_env(URL, env_map={**MAP, "DSN": "password={password} host={host}"},
                     extra={"SECRET_KEY": "abc", "API_TOKEN": "t", "APP_ENV": "test"})
    secret = secret_names(env)  # the password is found in the URL among the values
    assert secret == {"DATABASE_URL", "POSTGRES_PASSWORD", "DSN", "SECRET_KEY", "API_TOKEN"}
    assert secret_names(env, URL) == secret
    shown = redact(env)
    assert "s3cr" not in repr(shown)
    assert shown["POSTGRES_SERVER"] == "db.internal" and shown["APP_ENV"] == "test"
    assert shown["POSTGRES_PASSWORD"] == "***"


def test_secret_names_without_url_in_env():
    env = render_env(URL, url_var=None, env_map={"PGPW": "{password}", "PGHOST": "{host}"})
    assert secret_names(env) == set()  # nothing to recognise the password by ...
    assert secret_names(env, URL) == {"PGPW"}  # ... unless the URL is given


def test_no_password_no_secrets():
    env = render_env("postgresql://postgres@127.0.0.1:5432/db", env_map=MAP)
    assert secret_names(env) == {"POSTGRES_PASSWORD"}  # by its name, though empty
    assert env["POSTGRES_PASSWORD"] == ""
