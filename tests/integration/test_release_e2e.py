"""The whole release of the demo app through the `migrator` CLI against a real database, with the real compat
check and a command router hook that keeps the live colour in a file:

    plan -> compat evidence (--full) -> expand -> migrate -> switch -> rollback -> switch -> contract (soak 0)

with every precondition failure on the way (exit 1, naming the missing step and the command that does it),
usage errors (exit 2), a busy coordinator (exit 2 at once, or --wait), gate refusals for evidence of another
schema or another release, the ledger's events, and no password anywhere (output, ledger, hook payloads)."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from tests._cli import run
from tests import _server
from tests.integration.test_release_commands import (
    PASSWORD, colour, fresh_database, hook_calls, holding_coordinator, query, to_blue, write_release_config)

pytestmark = [pytest.mark.usefixtures("pg_server"), pytest.mark.slow]

SERVER = _server.ADMIN_URL  # the test server (tests/conftest.py)


def test_release_of_the_demo_app_end_to_end(tmp_path):
    from migrator.compat.options import CompatOptions
    from migrator.compat.run import compat
    from migrator.demo import build_demo_repo

    started = time.monotonic()
    repo = build_demo_repo(tmp_path / "app")
    ops = tmp_path / "ops"
    config = write_release_config(ops)
    outputs: list[str] = []

    with fresh_database(password=True) as (url, dbname):
        to_blue(repo, url, users=50)
        env = {"MIGRATOR_DATABASE_URL": url}

        def migrator(*args: str, code: int = 0, fmt: str | None = None):
            result = run(*args, "--config", str(config), *(("-f", fmt) if fmt else ()), cwd=repo, env=env)
            outputs.append(result.out + result.err)
            assert result.code == code, f"migrator {' '.join(args)}: exit {result.code}\n{result.out}\n{result.err}"
            return result

        def refused(*args: str, says: str, code: int = 1) -> None:
            result = migrator(*args, code=code)
            assert says in result.err, result.err
            assert result.out == ""  # the reason goes to stderr, one line
            assert len(result.err.strip().splitlines()) == 1, result.err

        # nothing planned yet
        assert "no release" in migrator("status").out
        refused("expand", says="cannot expand: no release is planned; run `migrator plan --blue <ref>` first")

        # plan: recorded, idempotent
        planned = json.loads(migrator("plan", "--blue", "blue", fmt="json").out)
        rid = planned["release_id"]
        assert planned["state"] == "planned" and planned["plan"]["blue_heads"] == ["0002"]
        assert json.loads(migrator("plan", "--blue", "blue", fmt="json").out)["result"] == "noop"
        review = migrator("plan", fmt="markdown").out
        assert "| `0005` | `ALTER TABLE users DROP COLUMN IF EXISTS name` | ACCESS EXCLUSIVE | users |" in review

        # preconditions before expand
        refused("migrate", says=f"cannot migrate: release {rid} is 'planned', it must be 'expanded'; "
                                "run `migrator expand` first")
        refused("contract", says="it must be 'switched'; run `migrator expand` first")  # the next step, not the last
        refused("rollback", says=f"cannot roll back: release {rid} is 'planned' and the router serves blue: traffic "
                                 "is not on green")
        # the missing step is named first, before the evidence file is even read
        refused("switch", "--to", "green", "--evidence", str(tmp_path / "missing.json"),
                says=f"cannot switch: release {rid} is 'planned', it must be 'migrated' or 'rolled_back'")
        refused("switch", "--to", "green", says="switch needs --evidence FILE", code=2)

        # blue's and green's suites against green's expanded schema (and green's on the contracted one), on a
        # throwaway database of the same server: one evidence file for expand, switch and contract
        evidence = tmp_path / "evidence.json"
        result = compat(CompatOptions(blue="blue", repo=repo, provider="url", database_url=SERVER,
                                      template_cache=False, evidence=evidence, full=True))
        assert result.result == "pass", result.reason
        data = json.loads(evidence.read_text())
        assert data["green"]["dirty"] is False and data["revisions"]["held_back"] == ["0005"]
        assert [c["app"] + "/" + c["schema"] for c in data["cells"]] == [
            "blue/expanded", "green/expanded", "green/contracted"]

        refused("expand", says="expand needs --evidence FILE", code=2)
        not_blue = tmp_path / "not-blue.json"
        not_blue.write_text(json.dumps({**data, "schemas": {**data["schemas"], "blue": "a" * 64}}))
        refused("expand", "--evidence", str(not_blue),
                says="expand gate refused: fingerprint: the evidence built blue's schema as aaaaaaaaaaaa")
        out = migrator("expand", "--evidence", str(evidence)).out
        assert "expanded: applied 0003" in out and "next: migrator migrate" in out
        assert "pass    fingerprint: evidence blue schema" in out
        assert "nothing to do" in migrator("expand").out

        refused("switch", "--to", "green", "--evidence", str(evidence),
                says=f"cannot switch: release {rid} is 'expanded', it must be 'migrated' or 'rolled_back'; "
                     "run `migrator migrate` first")

        # a second migrator on the same database: exit 2 at once; --wait waits for it
        with holding_coordinator(url) as other:
            began = time.monotonic()
            refused("migrate", code=2, says="another migrator command is running on this database")
            assert time.monotonic() - began < 10
            threading.Timer(1.0, other.close).start()
            out = migrator("migrate", "--wait", "30").out
        assert "migrated: applied 0004" in out
        assert query(url, "SELECT count(*) FROM users WHERE full_name IS NULL")[0][0] == 0

        refused("switch", "--to", "green", "--evidence", str(tmp_path / "missing.json"), code=2,
                says="evidence file not found")

        # evidence for another schema / another release is refused
        other_schema = tmp_path / "other-schema.json"
        other_schema.write_text(json.dumps({**data, "schemas": {**data["schemas"], "expanded": "f" * 64}}))
        refused("switch", "--to", "green", "--evidence", str(other_schema),
                says="switch gate refused: fingerprint: the evidence was made against schema ffffffffffff")
        other_release = tmp_path / "other-release.json"
        other_release.write_text(json.dumps({**data, "green": {**data["green"], "sha": "1" * 40}}))
        refused("switch", "--to", "green", "--evidence", str(other_release),
                says="(evidence for another release?)")
        refused("switch", "--to", "green", "--evidence", str(evidence), "--force", code=2,
                says="--force needs --reason")
        assert colour(ops) == "blue"

        # switch, rollback, switch again
        out = migrator("switch", "--to", "green", "--evidence", str(evidence)).out
        assert "switched: green serves" in out and "pass    fingerprint" in out and colour(ops) == "green"
        status = json.loads(migrator("status", fmt="json").out)
        assert status["state"] == "switched" and status["gates"]["contract"]["passed"] is True
        assert status["evidence"]["result"] == "pass" and status["next_command"] == "migrator contract"

        out = migrator("rollback", "--reason", "error rate up on green").out
        assert "rolled back: blue serves" in out and colour(ops) == "blue"
        refused("contract", says=f"cannot contract: release {rid} is 'rolled_back', it must be 'switched'; "
                                 "run `migrator switch --to green` first")
        migrator("switch", "--to", "green", "--evidence", str(evidence))
        assert colour(ops) == "green"

        # contract (soak 0): blue's column goes; afterwards there is no rollback
        out = migrator("contract").out
        assert "contracted: applied 0005" in out
        assert not query(url, "SELECT 1 FROM information_schema.columns WHERE table_name = 'users' "
                              "AND column_name = 'name'")
        assert "nothing to do" in migrator("contract").out
        refused("rollback", says=f"cannot rollback: release {rid} is contracted")
        assert [r[0] for r in query(url, "SELECT version_num FROM alembic_version")] == ["0005"]

        # the ledger
        events = query(url, "SELECT command, result, forced, reason FROM migrator.events WHERE release_id = %s "
                            "ORDER BY id", (rid,))
        assert [(c, r) for c, r, _, _ in events] == [
            ("plan", "succeeded"),
            ("expand", "refused"),
            ("expand", "started"), ("expand", "succeeded"),
            ("migrate", "started"), ("migrate", "succeeded"),
            ("switch", "refused"), ("switch", "refused"),
            ("switch", "started"), ("switch", "succeeded"),
            ("rollback", "started"), ("rollback", "succeeded"),
            ("switch", "started"), ("switch", "succeeded"),
            ("contract", "started"), ("contract", "succeeded"),
        ]
        assert ("rollback", "succeeded", False, "error rate up on green") in events
        assert query(url, "SELECT revision, phase FROM migrator.applied WHERE release_id = %s ORDER BY applied_at",
                     (rid,)) == [("0003", "expand"), ("0004", "migrate"), ("0005", "contract")]
        assert query(url, "SELECT state, active_color FROM migrator.releases") == [("contracted", "green")]
        ledger_text = query(url, "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM migrator.events) t")[0][0]
        ledger_text += query(url, "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM migrator.releases) t")[0][0]
        assert PASSWORD not in ledger_text
        assert not any(PASSWORD in text for text in outputs)
        assert all(PASSWORD not in json.dumps(call) for call in hook_calls(ops))
        keys = {c["payload"]["idempotency_key"] for c in hook_calls(ops) if c["payload"]["action"] == "switch"}
        assert keys == {f"{rid}:switch:switch:green"}

        status = migrator("status").out
        assert f"release {rid}: contracted, traffic on green" in status and "[x] 0005" in status

    mine = [f"migrator\\_{kind}\\_%{os.getpid()}\\_%" for kind in ("check", "build")]  # compat ran in this process
    left = query(SERVER, "SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s OR datname LIKE %s",
                 (dbname, *mine))
    assert not {name for (name,) in left} - _server.dropping()  # the test's own database may be on the dropper
    assert time.monotonic() - started < 90
