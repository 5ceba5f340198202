"""`migrator gate switch|contract` and `migrator serve` on the demo app against the real PostgreSQL at
the test server (tests/conftest.py), with the command router hook of tests/integration/test_release_commands.py.

The gate CLI runs as a user or an Argo Rollouts Job would run it (exit 0 pass, 1 refused, 2 error; --format json
with every check) and must decide what `migrator switch` / `contract` decide. The server is started as a real
process on a free port and called with a real HTTP client (urllib): the Argo form (GET, 200 whatever the verdict),
the Flagger form (POST .../confirm: 200 or 409), bearer tokens, the database going away (503, the server stays up),
and the ledger unchanged by all of it. Databases are uniquely named and dropped afterwards."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests._cli import assert_one_line_error, migrator_command, run
from tests import _server
from tests.integration.test_release_commands import (  # noqa: F401  (fixtures)
    PASSWORD, colour, ctx_for, demo, demo_template, drop_database, evidence_for, expand_for, query)

pytestmark = [pytest.mark.usefixtures("pg_server"), pytest.mark.slow]

TOKEN = "gate-token-0123456789abcdef"


# --- helpers ------------------------------------------------------------------------------------------------------


def migrated(repo: Path, config: Path, url: str) -> str:
    """The demo release planned, expanded and migrated: the switch gate is next."""
    from migrator.release import commands

    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    return rid


def ledger_rows(url: str) -> tuple[list, list]:
    """Every event and release row as it is: a gate evaluation must change none of them."""
    events = query(url, "SELECT id, release_id, command, result, state, hash FROM migrator.events ORDER BY id")
    releases = query(url, "SELECT id, state, active_color, updated_at FROM migrator.releases ORDER BY id")
    return events, releases


def gate_cli(name: str, *args: str, repo: Path, config: Path, url: str):
    return run("gate", name, "--config", str(config), *args, cwd=repo, env={"MIGRATOR_DATABASE_URL": url})


@contextmanager
def server(*args: str, repo: Path, config: Path, url: str, log: Path, token: str | None = TOKEN):
    """`migrator serve --port 0 ...` as a process; yields (base url, process). Stopped with SIGTERM afterwards."""
    env = {k: v for k, v in os.environ.items() if k not in ("MIGRATOR_DEBUG", "MIGRATOR_SERVE_TOKEN")}
    env["MIGRATOR_DATABASE_URL"] = url
    if token is not None:
        env["MIGRATOR_SERVE_TOKEN"] = token
    with open(log, "wb") as err:
        proc = subprocess.Popen([*migrator_command(), "serve", "--port", "0", "--config", str(config), *args],
                                cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 30
        while True:
            found = re.search(r"on http://127\.0\.0\.1:(\d+) ", log.read_text(errors="replace"))
            if found:
                break
            assert proc.poll() is None, f"serve exited {proc.returncode}: {log.read_text()}"
            assert time.monotonic() < deadline, f"serve did not start: {log.read_text()}"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{found.group(1)}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def call(method: str, url: str, *, token: str | None = TOKEN, body: dict | None = None) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one request; non-2xx answers are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else {}, dict(exc.headers)


FLAGGER = {"name": "shop", "namespace": "prod", "phase": "Promoting", "checksum": "85a6c8f7",
           "metadata": {"release": "current"}}


def check_shape(result: dict, gate: str) -> None:
    assert result["gate"] == gate and isinstance(result["passed"], bool)
    assert result["checks"] and all(set(c) >= {"name", "passed", "detail"} for c in result["checks"])
    assert result["passed"] == all(c["passed"] for c in result["checks"])


# --- migrator gate --------------------------------------------------------------------------------------------------


def test_gate_switch_exit_codes_json_and_agreement_with_switch(demo):
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    repo, config, ops, url, _ = demo
    rid = migrated(repo, config, url)
    good = evidence_for(url, repo, ops / "good.json")
    wrong = evidence_for(url, repo, ops / "wrong.json", fingerprint="0" * 64)
    before = ledger_rows(url)

    done = gate_cli("switch", "--evidence", str(good), "--format", "json", repo=repo, config=config, url=url)
    assert done.code == 0, done.err
    result = json.loads(done.out)
    check_shape(result, "switch")
    assert result["passed"] is True and result["release"]["id"] == rid and result["release"]["state"] == "migrated"
    assert [c["name"] for c in result["checks"]] == ["state", "evidence", "signature", "cells", "fingerprint",
                                                      "release", "router"]
    text = gate_cli("switch", "--evidence", str(good), repo=repo, config=config, url=url)
    assert text.code == 0 and text.out.startswith(f"switch gate: PASS (release {rid}, migrated"), text.out
    assert "  pass    fingerprint: evidence expanded schema" in text.out

    refused = gate_cli("switch", "--evidence", str(wrong), "--format", "json", repo=repo, config=config, url=url)
    assert refused.code == 1, refused.err
    verdict = json.loads(refused.out)
    check_shape(verdict, "switch")
    assert verdict["passed"] is False
    assert [c["name"] for c in verdict["checks"] if not c["passed"]] == ["fingerprint"]
    assert refused.err.startswith("migrator: switch gate refused: fingerprint: the evidence was made against")

    # errors: exit 2 with one line (and the json error form on stdout)
    assert_one_line_error(gate_cli("switch", repo=repo, config=config, url=url), contains="needs --evidence FILE")
    (ops / "bad.json").write_text("{not json")
    assert_one_line_error(gate_cli("switch", "--evidence", str(ops / "bad.json"), repo=repo, config=config, url=url))
    gone = url.rsplit("/", 1)[0] + "/migrator_trel_no_such_database"
    down = gate_cli("switch", "--evidence", str(good), "--format", "json", repo=repo, config=config, url=gone)
    assert_one_line_error(down, contains="cannot connect")
    assert json.loads(down.out)["exit_code"] == 2 and json.loads(down.out)["passed"] is False
    assert PASSWORD not in down.out + down.err
    assert_one_line_error(run("gate", "expand", cwd=repo), contains="gate")

    assert ledger_rows(url) == before, "a gate evaluation changed the ledger"

    # the command decides alike: refused with the same reasons, then passes with the good evidence
    with pytest.raises(GateRefused) as exc:
        commands.switch(ctx_for(repo, config, url, evidence=wrong))
    assert exc.value.reasons == verdict["reasons"]
    assert commands.switch(ctx_for(repo, config, url, evidence=good))["state"] == "switched"
    after = gate_cli("switch", "--evidence", str(good), "--format", "json", repo=repo, config=config, url=url)
    assert after.code == 1 and "already switched" in json.loads(after.out)["checks"][0]["detail"]


def test_gate_contract_agrees_with_contract(demo):
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    repo, config, ops, url, _ = demo
    rid = migrated(repo, config, url)
    not_yet = gate_cli("contract", "--format", "json", repo=repo, config=config, url=url)
    assert not_yet.code == 1 and json.loads(not_yet.out)["checks"][0]["name"] == "state"
    commands.switch(ctx_for(repo, config, url, evidence=evidence_for(url, repo, ops / "ev.json")))
    before = ledger_rows(url)

    waiting = gate_cli("contract", "--soak", "1h", "--format", "json", repo=repo, config=config, url=url)
    assert waiting.code == 1, waiting.err
    verdict = json.loads(waiting.out)
    check_shape(verdict, "contract")
    assert [c["name"] for c in verdict["checks"] if not c["passed"]] == ["soak"]
    assert {c["name"] for c in verdict["checks"]} >= {"state", "checkout", "cells", "traffic", "soak", "rollback",
                                                      "blue sessions", "preflight"}
    assert ledger_rows(url) == before

    with pytest.raises(GateRefused) as exc:
        commands.contract(ctx_for(repo, config, url, overrides={"soak": "1h"}))
    assert [r.split(":")[0] for r in exc.value.reasons] == ["soak"]

    ready = gate_cli("contract", "--soak", "0", repo=repo, config=config, url=url)
    assert ready.code == 0, ready.out + ready.err
    assert ready.out.startswith(f"contract gate: PASS (release {rid}, switched, traffic on green)")
    assert "  pass    preflight: " in ready.out
    done = commands.contract(ctx_for(repo, config, url, overrides={"soak": "0"}))
    assert done["state"] == "contracted"


# --- migrator serve -------------------------------------------------------------------------------------------------


def test_serve_argo_and_flagger_forms_auth_and_a_read_only_ledger(demo, tmp_path):
    repo, config, ops, url, _ = demo
    rid = migrated(repo, config, url)
    evidence = evidence_for(url, repo, ops / "served.json")
    good = evidence.read_text()
    before = ledger_rows(url)
    log = tmp_path / "serve.log"
    with server("--evidence", str(evidence), repo=repo, config=config, url=url, log=log) as (base, proc):
        gates = f"{base}/v1/releases/current/gates"
        status, body, _ = call("GET", f"{base}/v1/healthz", token=None)
        assert status == 200 and body["status"] == "ok"

        # auth: none, wrong, right
        status, body, headers = call("GET", f"{gates}/switch", token=None)
        assert status == 401 and "bearer token" in body["error"] and headers["WWW-Authenticate"].startswith("Bearer")
        assert call("GET", f"{gates}/switch", token="wrong-token-0123456789")[0] == 401
        assert call("POST", f"{gates}/switch/confirm", token=None, body=FLAGGER)[0] == 401

        # Argo: 200 with the verdict; Flagger: 200 when it passes
        status, body, _ = call("GET", f"{gates}/switch")
        assert status == 200 and body["passed"] is True, body
        check_shape(body, "switch")
        assert body["release"]["id"] == rid
        status, body, _ = call("POST", f"{gates}/switch/confirm", body=FLAGGER)
        assert status == 200 and body["passed"] is True and body["canary"]["name"] == "shop"
        status, body, _ = call("GET", f"{base}/v1/releases/{rid}/gates/switch")
        assert status == 200 and body["passed"] is True
        # Flagger cannot send headers: the token may come in the webhook's metadata
        with_token = {**FLAGGER, "metadata": {"token": TOKEN}}
        assert call("POST", f"{gates}/switch/confirm", token=None, body=with_token)[0] == 200
        wrong = {**FLAGGER, "metadata": {"token": "not-the-token-0123"}}
        assert call("POST", f"{gates}/switch/confirm", token=None, body=wrong)[0] == 401

        # a refused gate: the evidence is re-read on every request
        evidence_for(url, repo, evidence, fingerprint="0" * 64)
        status, body, _ = call("GET", f"{gates}/switch")
        assert status == 200 and body["passed"] is False
        assert [c["name"] for c in body["checks"] if not c["passed"]] == ["fingerprint"]
        status, body, _ = call("POST", f"{gates}/switch/confirm", body=FLAGGER)
        assert status == 409 and body["passed"] is False
        assert body["reasons"] and body["reasons"][0].startswith("fingerprint: the evidence was made against")
        # contract is refused: the release is not switched
        status, body, _ = call("GET", f"{gates}/contract")
        assert status == 200 and body["passed"] is False and body["checks"][0]["name"] == "state"
        assert call("POST", f"{gates}/contract/confirm", body=FLAGGER)[0] == 409

        # bad requests
        assert call("GET", f"{base}/v1/releases/current/gates/expand")[0] == 404
        assert call("GET", f"{gates}/switch/confirm")[0] == 405
        request = urllib.request.Request(f"{gates}/switch/confirm", data=b"{nope", method="POST",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(request, timeout=30)
        assert bad.value.code == 400
        evidence.write_text("{broken")
        status, body, _ = call("GET", f"{gates}/switch")
        assert status == 503 and "\n" not in body["error"] and "Traceback" not in body["error"]
        evidence.write_text(good)
        assert call("GET", f"{gates}/switch")[1]["passed"] is True
        assert proc.poll() is None

    assert ledger_rows(url) == before, "serving the gates changed the ledger"
    assert colour(ops) == "blue"
    logged = log.read_text()
    assert "GET /v1/releases/current/gates/switch 200 switch gate passed in " in logged
    assert "409 switch gate refused (canary prod/shop, phase Promoting) in " in logged
    assert TOKEN not in logged and PASSWORD not in logged and "Traceback" not in logged


def test_serve_database_gone_answers_503_and_stays_up(demo, tmp_path):
    repo, config, ops, url, name = demo
    migrated(repo, config, url)
    evidence = evidence_for(url, repo, ops / "served.json")
    log = tmp_path / "serve.log"
    with server("--evidence", str(evidence), repo=repo, config=config, url=url, log=log) as (base, proc):
        gates = f"{base}/v1/releases/current/gates"
        assert call("GET", f"{gates}/switch")[1]["passed"] is True
        drop_database(name)  # terminates its sessions and drops it (the fixture drops only if it exists)
        for path, method in (("switch", "GET"), ("contract", "GET"), ("switch/confirm", "POST")):
            status, body, _ = call(method, f"{gates}/{path}", body=FLAGGER if method == "POST" else None)
            assert status == 503, (path, status, body)
            assert body["error"] and "\n" not in body["error"] and "Traceback" not in body["error"]
            assert PASSWORD not in json.dumps(body)
        status, body, _ = call("GET", f"{base}/v1/healthz", token=None)
        assert status == 503 and body["status"] == "unavailable" and PASSWORD not in json.dumps(body)
        assert proc.poll() is None, "the server must stay up"
    logged = log.read_text()
    assert "Traceback" not in logged and PASSWORD not in logged


def test_serve_refuses_to_start_without_a_token(tmp_path):
    env = {"MIGRATOR_DATABASE_URL": _server.url("postgres", password=PASSWORD),
           "MIGRATOR_SERVE_TOKEN": ""}
    done = run("serve", "--port", "0", cwd=tmp_path, env=env)
    assert_one_line_error(done, contains="MIGRATOR_SERVE_TOKEN")
    done = run("serve", "--port", "0", "--token-env", "MY_TOKEN", cwd=tmp_path, env=env)
    assert_one_line_error(done, contains="$MY_TOKEN")


def test_serve_no_auth_and_a_database_that_is_not_there(tmp_path):
    """--no-auth: no token asked; a database that does not exist from the start, or a contract gate served from
    outside green's checkout, is a 503 per request (the password hidden), and the server serves on."""
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.migrator]\n", encoding="utf-8")
    url = _server.url("migrator_trel_never_made", driver="postgresql+psycopg", password=PASSWORD)
    log = tmp_path / "serve.log"
    with server("--no-auth", repo=tmp_path, config=config, url=url, log=log, token=None) as (base, proc):
        status, body, _ = call("GET", f"{base}/v1/releases/current/gates/switch", token=None)
        assert status == 503 and "migrator_trel_never_made" in body["error"] and PASSWORD not in body["error"]
        status, body, _ = call("GET", f"{base}/v1/releases/current/gates/contract", token=None)
        assert status == 503 and body["error"].startswith("alembic config alembic.ini not found")
        assert call("GET", f"{base}/v1/healthz", token=None)[0] == 503
        assert call("PUT", f"{base}/v1/releases/current/gates/switch", token=None)[0] == 405
        assert proc.poll() is None
    logged = log.read_text()
    assert "NO AUTHENTICATION (--no-auth)" in logged and PASSWORD not in logged


def test_read_only_session_refuses_writes(demo):
    """The gates' connection: every transaction READ ONLY, so no code path can change the ledger."""
    import psycopg

    from migrator.release import commands

    repo, config, ops, url, _ = demo
    conn = commands.connect(url, read_only=True)
    try:
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE should_not_exist (id int)")
    finally:
        conn.close()


READ_ONLY_GRANTS = """
ALTER ROLE {role} SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE {database} TO {role};
GRANT USAGE ON SCHEMA migrator TO {role};
GRANT SELECT ON ALL TABLES IN SCHEMA migrator TO {role};
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};
"""


def test_the_documented_read_only_role_is_enough(demo):
    """The GRANTs docs/scale-out.md gives the gates' role (as a test-only role, dropped afterwards): both gates
    evaluate with it, and it can change nothing."""
    import secrets

    import psycopg

    from migrator.release import commands
    from tests.integration.test_release_commands import admin

    repo, config, ops, url, name = demo
    migrated(repo, config, url)
    role = f"migrator_tgate_{secrets.token_hex(4)}"
    admin(f'CREATE ROLE "{role}" LOGIN')
    try:
        grants = READ_ONLY_GRANTS.format(role=f'"{role}"', database=f'"{name}"')
        query(url, grants)
        reader = _server.url(name, driver="postgresql+psycopg").replace(f"//{_server.USER}@", f"//{role}@", 1)
        evidence = evidence_for(url, repo, ops / "ro.json")
        done = gate_cli("switch", "--evidence", str(evidence), repo=repo, config=config, url=reader)
        assert done.code == 0, done.out + done.err
        commands.switch(ctx_for(repo, config, url, evidence=evidence))
        done = gate_cli("contract", "--soak", "0", repo=repo, config=config, url=reader)
        assert done.code == 0, done.out + done.err
        with psycopg.connect(commands.libpq_url(reader), autocommit=True) as conn:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("INSERT INTO migrator.ledger_meta (version) VALUES (99)")
            conn.execute("SET default_transaction_read_only = off")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("INSERT INTO migrator.ledger_meta (version) VALUES (99)")
    finally:
        query(url, f'DROP OWNED BY "{role}"')
        admin(f'DROP ROLE IF EXISTS "{role}"')


def test_scale_out_examples_are_complete_and_match_the_server():
    """docs/scale-out.md: every YAML block parses; the AnalysisTemplate has the web metric (successCondition on
    result.passed, the bearer header) and the Job form running `migrator gate switch`, used by the Rollout's
    prePromotionAnalysis; the Flagger Canary has a confirm-promotion webhook; their URLs are the server's routes."""
    yaml = pytest.importorskip("yaml")
    from urllib.parse import urlsplit

    from migrator.serve import _GATE

    text = (Path(__file__).resolve().parents[2] / "docs" / "scale-out.md").read_text(encoding="utf-8")
    start = text.index("## Gates in Argo Rollouts and Flagger")
    section = text[start:text.index("\n## ", start + 1)]  # this section only (the fleet's YAML follows)
    docs = [d for block in re.findall(r"```yaml\n(.*?)```", section, re.S) for d in yaml.safe_load_all(block) if d]
    kinds = {d["kind"]: d for d in docs}
    assert {"AnalysisTemplate", "Rollout", "Canary", "Deployment", "Service", "Secret"} <= set(kinds)

    template = kinds["AnalysisTemplate"]
    web = next(m for m in template["spec"]["metrics"] if "web" in m["provider"])
    assert web["successCondition"] == "result.passed == true"
    assert _GATE.match(urlsplit(web["provider"]["web"]["url"]).path)["gate"] == "switch"
    assert web["provider"]["web"]["headers"][0]["value"].startswith("Bearer {{ args.")
    job = next(m for m in template["spec"]["metrics"] if "job" in m["provider"])
    command = job["provider"]["job"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:3] == ["migrator", "gate", "switch"] and "--evidence" in command
    pre = kinds["Rollout"]["spec"]["strategy"]["blueGreen"]["prePromotionAnalysis"]
    assert pre["templates"][0]["templateName"] == template["metadata"]["name"]

    hook = next(h for h in kinds["Canary"]["spec"]["analysis"]["webhooks"] if h["type"] == "confirm-promotion")
    route = _GATE.match(urlsplit(hook["url"]).path)
    assert route["gate"] == "switch" and route["confirm"]
    serve = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert serve["command"][:2] == ["migrator", "serve"]
    assert serve["readinessProbe"]["httpGet"]["path"] == "/v1/healthz"
