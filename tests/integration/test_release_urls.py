"""No release command ever prints the database password (D3), whatever form the address has: a URL with a password,
`?password=` in its query, a libpq `key=value` string, a `postgresql+psycopg` URL; an address without a password is
shown whole; a `mysql://` one is refused with "unsupported database URL scheme 'mysql'" (exit 2). Each form goes
through every release command (plan, expand, migrate, switch, rollback, contract, status), as text and as json,
against the live database and against a server that is down. The real CLI (in this process: tests/_cli.py), the real PostgreSQL."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest

from tests._cli import run
from tests import _server
from tests.integration.test_release_commands import ctx_for, demo, demo_template, evidence_for  # noqa: F401

pytestmark = [pytest.mark.usefixtures("pg_server"), pytest.mark.slow]

SECRET = "Pw@d:/%x-Secret9"  # trust auth ignores it; its every form must stay out of every output
FORBIDDEN = {SECRET, quote(SECRET, safe=""), quote_plus(SECRET), "Secret9"}
COMMANDS = {
    "plan": ["plan", "--blue", "blue"],
    "expand": ["expand", "--evidence", "{wrong}"],   # a gate that refuses: the gate's checks are printed
    "migrate": ["migrate"],
    "switch": ["switch", "--to", "green", "--evidence", "{wrong}"],
    "rollback": ["rollback", "--reason", "url test"],
    "contract": ["contract"],
    "status": ["status"],
}


def forms(name: str, port: int = _server.PORT) -> dict[str, str]:
    q = quote(SECRET, safe="")
    host, user = _server.HOST, _server.USER
    return {
        "url with password": f"postgresql://{user}:{q}@{host}:{port}/{name}",
        "?password= in the query": f"postgresql://{user}@{host}:{port}/{name}?password={q}",
        "libpq key=value": f"host={host} port={port} dbname={name} user={user} password={SECRET}",
        "postgresql+psycopg": f"postgresql+psycopg://{user}:{q}@{host}:{port}/{name}?sslmode=disable",
        "+psycopg with ?password=": f"postgresql+psycopg://{user}@{host}:{port}/{name}?password={q}",
    }


def run_all(repo, config, url: str, wrong) -> list[tuple[str, str, object]]:
    jobs = []
    for command, args in COMMANDS.items():
        args = [a.replace("{wrong}", str(wrong)) for a in args]
        for fmt in ("text", "json"):
            jobs.append((command, fmt, [*args, "-f", fmt, "--config", str(config), "--database-url", url]))
    # one after the other, in this process (tests/_cli.py): 14 interpreters per form cost more than the commands
    return [(command, fmt, run(*args, cwd=repo)) for command, fmt, args in jobs]


def check_clean(command: str, fmt: str, result) -> None:
    shown = result.out + result.err
    for secret in FORBIDDEN:
        assert secret not in shown, f"{command} -f {fmt} printed a form of the password:\n{shown}"
    assert "Traceback" not in result.err and "internal error" not in result.err, (command, fmt, result.err)
    assert result.code in (0, 1, 2), (command, fmt, result.code, result.err)
    if fmt == "json" and result.out.strip():
        json.loads(result.out)  # results and errors alike are JSON on stdout
    if result.code:
        assert result.err.strip().splitlines()[-1].startswith("migrator: "), (command, fmt, result.err)


@pytest.fixture
def planned(demo):
    from migrator.release import commands

    repo, config, ops, url, name = demo
    commands.plan(ctx_for(repo, config, url, blue="blue"))
    wrong = evidence_for(url, repo, ops / "wrong.json", fingerprint="0" * 64)
    return repo, config, name, wrong


@pytest.mark.parametrize("form", list(forms("x")))
def test_every_release_command_hides_the_password(planned, form):
    repo, config, name, wrong = planned
    url = forms(name)[form]
    results = run_all(repo, config, url, wrong)
    for command, fmt, result in results:
        check_clean(command, fmt, result)
    by = {(c, f): r for c, f, r in results}
    assert by[("status", "text")].code == 0
    shown = f"postgresql://{_server.USER}:***@{_server.HOSTPORT}/"
    assert f"database: {shown}{name}" in by[("status", "text")].out
    assert json.loads(by[("status", "json")].out)["database"].startswith(shown)
    assert by[("plan", "text")].code == 0 and by[("expand", "text")].code == 1  # it really reached the gate
    assert "expand gate refused" in by[("expand", "text")].err


@pytest.mark.parametrize("form", list(forms("x")))
def test_a_server_that_is_down_does_not_leak_the_password_either(planned, form):
    repo, config, name, wrong = planned
    url = forms(name, port=1)[form]
    for command, fmt, result in run_all(repo, config, url, wrong):
        check_clean(command, fmt, result)
        assert result.code == 2, (command, fmt, result.err)
        assert "cannot connect to postgresql://postgres:***@127.0.0.1:1/" in result.err, (command, result.err)
        if fmt == "json":
            assert json.loads(result.out)["result"] == "error"


def test_an_address_without_a_password_is_shown_whole(planned):
    repo, config, name, wrong = planned
    url = _server.url(name)
    results = {(c, f): r for c, f, r in run_all(repo, config, url, wrong)}
    assert f"database: {url} at alembic 0002\n" in results[("status", "text")].out
    assert json.loads(results[("status", "json")].out)["database"] == url
    down = run("status", "--config", str(config), "--database-url", f"postgresql://postgres@127.0.0.1:1/{name}",
               cwd=repo)
    assert down.code == 2 and f"cannot connect to postgresql://postgres@127.0.0.1:1/{name}:" in down.err, down.err
    assert "***" not in down.err


def test_a_mysql_url_is_refused_by_every_command(planned):
    repo, config, name, wrong = planned
    url = f"mysql://postgres:{quote(SECRET, safe='')}@127.0.0.1:3306/{name}"
    for command, fmt, result in run_all(repo, config, url, wrong):
        check_clean(command, fmt, result)
        assert result.code == 2, (command, fmt, result.err)
        assert "unsupported database URL scheme 'mysql'" in result.err, (command, result.err)
        assert len(result.err.strip().splitlines()) == 1, result.err
