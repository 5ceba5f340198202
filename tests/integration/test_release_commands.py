"""The release commands (migrator.release.commands) on the demo app against the test PostgreSQL server
(tests/conftest.py): state machine, preconditions, gates, the coordinator lock, the ledger's events, drift, faults.

The helpers at the top are shared with tests/integration/test_release_plan.py and tests/integration/test_release_e2e.py: the demo
repository, a command router hook that keeps the live colour in a file, and uniquely named databases that are
always dropped. The compat evidence here is written by hand (test_release_e2e.py runs the real `compat`)."""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import _server
from tests._evidence import ALL_CELLS, cell, document, write

pytestmark = pytest.mark.usefixtures("pg_server")

SERVER = _server.SA_SERVER  # the test server (MIGRATOR_TEST_URL, tests/conftest.py)
ADMIN = _server.ADMIN_URL
DB_PREFIX = "migrator_trel_"
PASSWORD = "Sup3rS3cretPw"  # trust auth ignores it; it must never show up anywhere

HOOK_SCRIPT = r'''
import json, os, sys
from pathlib import Path

state = Path(sys.argv[1])
payload = json.load(sys.stdin)
with open(state.with_suffix(".log"), "a") as log:
    log.write(json.dumps({"payload": payload, "env": {k: v for k, v in os.environ.items()
                                                     if k.startswith("BG_")}}) + "\n")
action = payload["action"]
fail = state.with_name("fail-" + action)
if fail.exists():
    if fail.read_text().strip() == "once":
        fail.unlink()
    print("hook told to fail " + action, file=sys.stderr)
    sys.exit(1)
if action in ("switch", "rollback"):
    state.write_text(payload["to_color"])
current = state.read_text().strip() if state.exists() else "blue"
print(json.dumps({"status": "succeeded", "observed": {"active_color": current}}))
'''


# --- databases ----------------------------------------------------------------------------------------------


admin = _server.admin
drop_database = _server.drop_database


@contextmanager
def fresh_database(password: bool = False):
    """A new empty database; yields its SQLAlchemy URL; dropped afterwards whatever happened."""
    with _server.throwaway(DB_PREFIX, later=True) as name:
        yield _server.url(name, driver="postgresql+psycopg", password=PASSWORD if password else None), name


def query(url: str, sql: str, params=None) -> list[tuple]:
    import psycopg

    from migrator.release.commands import libpq_url

    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


# --- the demo app --------------------------------------------------------------------------------------------


def write_release_config(folder: Path, *, soak: str = "0", extra_release: str = "", extra_hook: str = "") -> Path:
    """release.toml (outside the repository, so green's checkout stays clean): the command hook keeps the live
    colour in <folder>/colour; a file <folder>/fail-<action> makes that action fail (once, if the file says "once")."""
    folder.mkdir(parents=True, exist_ok=True)
    hook = folder / "router.py"
    hook.write_text(HOOK_SCRIPT, encoding="utf-8")
    config = folder / "release.toml"
    command = json.dumps([sys.executable, str(hook), str(folder / "colour")])
    config.write_text(
        "[tool.migrator]\npostgres_version = 15\n\n"
        f"[tool.migrator.release]\nsoak = \"{soak}\"\nlock_timeout = \"500ms\"\nlock_retries = 3\n{extra_release}\n"
        f"[tool.migrator.hook]\nkind = \"command\"\ncommand = {command}\ntimeout = \"20s\"\ndeadline = \"30s\"\n"
        f"poll_interval = \"0.1s\"\n{extra_hook}", encoding="utf-8")
    return config


def hook_calls(folder: Path) -> list[dict]:
    log = folder / "colour.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def colour(folder: Path) -> str:
    path = folder / "colour"
    return path.read_text().strip() if path.exists() else "blue"


def to_blue(repo: Path, url: str, users: int = 25) -> None:
    """Bring the database to blue's schema (0001, 0002) and give it some rows."""
    from migrator.compat.apply import upgrade

    upgrade(repo, "alembic.ini", url, "0002", {"DATABASE_URL": url})
    query(url, "INSERT INTO users (name, email) SELECT 'user ' || i, 'u' || i || '@example.com' "
               "FROM generate_series(1, %s) i", (users,))


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    from migrator.demo import build_demo_repo

    return build_demo_repo(tmp_path_factory.mktemp("demo") / "app")


@pytest.fixture
def demo(tmp_path, demo_template):
    """(repo, config path, hook folder, database url, database name): green checked out, database at blue."""
    import shutil

    repo = tmp_path / "app"
    shutil.copytree(demo_template, repo, symlinks=True)
    config = write_release_config(tmp_path / "ops")
    with fresh_database(password=True) as (url, name):
        to_blue(repo, url)
        yield repo, config, tmp_path / "ops", url, name


def ctx_for(repo: Path, config: Path, url: str, **kwargs):
    from migrator.release.commands import ReleaseContext

    return ReleaseContext(database_url=url, project_dir=repo, config_path=config, **kwargs)


def git_sha(repo: Path, ref: str) -> str:
    from migrator.compat import git

    return git.resolve_ref(repo, ref)


def evidence_for(url: str, repo: Path, path: Path, *, result: str = "pass", blue: str = "blue", green: str = "HEAD",
                 fingerprint: str | None = None, cells=ALL_CELLS, key: bytes | None = None) -> Path:
    """A compat evidence file (version 2) as `migrator compat --full` writes it, with blue's schema and the expanded
    schema both equal to the live schema now (unless told otherwise), so that it opens the gate in front of the
    release's next step: expand compares schemas.blue, switch and contract schemas.expanded."""
    import psycopg

    from migrator.release.commands import libpq_url, live_fingerprint

    if fingerprint is None:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            fingerprint = live_fingerprint(conn, "migrator")
    if result != "pass":
        cells = [cell("blue/expanded", "fail", passed=4, failed=3), *cells[1:]]
    doc = document(blue_sha=git_sha(repo, blue), green_sha=git_sha(repo, green), blue=fingerprint,
                   expanded=fingerprint, cells=cells, result=result,
                   reason=None if result == "pass" else "blue suite on the expanded schema: 3 of 7 tests failed")
    return write(path, doc, key=key)


def expand_for(repo: Path, config: Path, url: str, **kwargs) -> dict:
    """`migrator expand` with evidence made for the live (blue's) schema now."""
    from migrator.release import commands

    path = Path(config).parent / f"expand-{secrets.token_hex(3)}.json"
    return commands.expand(ctx_for(repo, config, url, evidence=evidence_for(url, repo, path), **kwargs))


def events(url: str, release_id: str) -> list[tuple]:
    return query(url, "SELECT command, result, forced, reason FROM migrator.events WHERE release_id = %s "
                      "ORDER BY id", (release_id,))


def state_of(url: str, release_id: str) -> tuple:
    return query(url, "SELECT state, active_color FROM migrator.releases WHERE id = %s", (release_id,))[0]


def alembic_version(url: str) -> list[str]:
    return [r[0] for r in query(url, "SELECT version_num FROM alembic_version")]


def has_column(url: str, table: str, column: str) -> bool:
    return bool(query(url, "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                      (table, column)))


def needs_applier():
    """The phase commands apply revisions through migrator.release.applier (helper A's module)."""
    try:
        import migrator.release.applier  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"migrator.release.applier not available yet: {exc}")


# --- the whole flow through the functions ---------------------------------------------------------------------


def test_release_flow_states_events_and_noops(demo):
    from migrator.release import commands
    from migrator.release.errors import PreconditionFailed

    needs_applier()
    repo, config, ops, url, _ = demo
    planned = commands.plan(ctx_for(repo, config, url, blue="blue"))
    rid = planned["release_id"]
    assert planned["result"] == "ok" and planned["state"] == "planned"
    assert planned["next_command"] == "migrator expand --evidence <compat evidence>"

    # preconditions name the missing step and the command that does it
    with pytest.raises(PreconditionFailed, match=r"must be 'expanded'.*run `migrator expand` first"):
        commands.migrate(ctx_for(repo, config, url))
    # rollback asks the router (action "current"): the ledger says blue and so does the router
    with pytest.raises(PreconditionFailed, match=r"cannot roll back.*'planned' and the router serves blue"):
        commands.rollback(ctx_for(repo, config, url))
    # the next step, not the last one: contract from planned needs expand next
    with pytest.raises(PreconditionFailed, match=r"cannot contract.*run `migrator expand` first"):
        commands.contract(ctx_for(repo, config, url))

    done = expand_for(repo, config, url)
    assert done["state"] == "expanded" and done["applied"] == ["0003"]
    assert has_column(url, "users", "full_name") and alembic_version(url) == ["0003"]
    assert commands.expand(ctx_for(repo, config, url))["result"] == "noop"  # no evidence needed for a no-op
    with pytest.raises(PreconditionFailed, match=r"cannot contract.*'expanded'.*run `migrator migrate` first"):
        commands.contract(ctx_for(repo, config, url))

    with pytest.raises(PreconditionFailed, match=r"cannot switch.*run `migrator migrate` first"):
        commands.switch(ctx_for(repo, config, url, evidence=evidence_for(url, repo, ops / "early.json")))

    done = commands.migrate(ctx_for(repo, config, url))
    assert done["state"] == "migrated" and done["applied"] == ["0004"]
    assert query(url, "SELECT count(*) FROM users WHERE full_name IS NULL")[0][0] == 0

    evidence = evidence_for(url, repo, ops / "evidence.json")
    done = commands.switch(ctx_for(repo, config, url, evidence=evidence))
    assert done["state"] == "switched" and done["active_color"] == "green" and colour(ops) == "green"
    assert commands.switch(ctx_for(repo, config, url, evidence=evidence))["result"] == "noop"

    done = commands.rollback(ctx_for(repo, config, url, reason="p99 went up"))
    assert done["state"] == "rolled_back" and colour(ops) == "blue"
    with pytest.raises(PreconditionFailed, match="run `migrator switch --to green` first"):
        commands.contract(ctx_for(repo, config, url))
    commands.switch(ctx_for(repo, config, url, evidence=evidence))
    done = commands.contract(ctx_for(repo, config, url))
    assert done["state"] == "contracted" and done["applied"] == ["0005"]
    assert not has_column(url, "users", "name") and alembic_version(url) == ["0005"]
    assert commands.contract(ctx_for(repo, config, url))["result"] == "noop"
    with pytest.raises(PreconditionFailed, match="contracted"):
        commands.rollback(ctx_for(repo, config, url))

    assert [(c, r) for c, r, _, _ in events(url, rid)] == [
        ("plan", "succeeded"),
        ("expand", "started"), ("expand", "succeeded"),
        ("migrate", "started"), ("migrate", "succeeded"),
        ("switch", "started"), ("switch", "succeeded"),
        ("rollback", "started"), ("rollback", "succeeded"),
        ("switch", "started"), ("switch", "succeeded"),
        ("contract", "started"), ("contract", "succeeded"),
    ]
    assert ("rollback", "succeeded", False, "p99 went up") in events(url, rid)
    actions = [c["payload"]["action"] for c in hook_calls(ops)]
    assert actions == ["current", "gate", "switch", "verify", "rollback", "verify", "gate", "switch", "verify",
                       "verify"]
    status = commands.status(ctx_for(repo, config, url))
    assert status["state"] == "contracted" and status["next_command"] is None and status["drift"] is None
    # planning the same green again shows the finished release; it records nothing new
    again = commands.plan(ctx_for(repo, config, url, blue="blue"))
    assert again["result"] == "noop" and again["release_id"] == rid and again["state"] == "contracted"
    assert query(url, "SELECT count(*) FROM migrator.releases")[0][0] == 1


def test_force_needs_a_reason_and_is_recorded(demo):
    from migrator.errors import UsageError
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    repo, config, ops, url, _ = demo
    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    wrong = evidence_for(url, repo, ops / "wrong.json", fingerprint="0" * 64)
    with pytest.raises(UsageError, match="--force needs --reason"):
        commands.switch(ctx_for(repo, config, url, evidence=wrong, force=True))
    with pytest.raises(GateRefused, match=r"switch gate refused: fingerprint: the evidence was made against schema "
                                          r"000000000000"):
        commands.switch(ctx_for(repo, config, url, evidence=wrong))
    assert state_of(url, rid) == ("migrated", "blue") and colour(ops) == "blue"
    done = commands.switch(ctx_for(repo, config, url, evidence=wrong, force=True, reason="INC-42: evidence lost"))
    assert done["forced"] is True and done["state"] == "switched"
    assert ("switch", "refused", False, None) in events(url, rid)
    assert ("switch", "succeeded", True, "INC-42: evidence lost") in events(url, rid)


def test_switch_refuses_evidence_of_another_release_or_a_failed_check(demo):
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    repo, config, ops, url, _ = demo
    commands.plan(ctx_for(repo, config, url, blue="blue"))
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    other = evidence_for(url, repo, ops / "other.json", blue="green-broken")
    with pytest.raises(GateRefused, match=r"release: evidence blue is .* \(evidence for another release\?\)"):
        commands.switch(ctx_for(repo, config, url, evidence=other))
    failed = evidence_for(url, repo, ops / "failed.json", result="fail")
    with pytest.raises(GateRefused, match=r"evidence: compat evidence result is 'fail'"):
        commands.switch(ctx_for(repo, config, url, evidence=failed))
    assert colour(ops) == "blue" and {c["payload"]["action"] for c in hook_calls(ops)} == {"gate"}


def test_contract_gate_waits_for_the_soak_time(demo):
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    repo, config, ops, url, _ = demo
    config = write_release_config(ops, soak="1h")
    commands.plan(ctx_for(repo, config, url, blue="blue"))
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    switched = commands.switch(ctx_for(repo, config, url, evidence=evidence_for(url, repo, ops / "e.json")))
    # the next step says when it becomes possible
    assert switched["next_command"] == "migrator contract"
    assert re.fullmatch(r"possible in (60|59)m, when the 60m soak ends \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)",
                        switched["next_when"]), switched["next_when"]
    from migrator.release.render import render

    assert f"next: migrator contract ({switched['next_when']})" in render(switched)
    with pytest.raises(GateRefused, match=r"contract gate refused: soak: .* of (1h|60m|1.0h) soak on green"):
        commands.contract(ctx_for(repo, config, url))
    assert has_column(url, "users", "name")
    status = commands.status(ctx_for(repo, config, url))
    assert status["gates"]["contract"]["passed"] is False
    assert status["next_when"].startswith("possible in ")
    # the CLI override wins over the config file, and the ledger records the soak the contract went on with
    done = commands.contract(ctx_for(repo, config, url, overrides={"soak": "0"}))
    assert done["state"] == "contracted" and done["soak"] == {"seconds": 0.0, "from": "--soak"}
    assert "(soak 0.0s, from --soak)" in done["message"]
    refused, succeeded = (query(url, "SELECT detail->'soak' FROM migrator.events WHERE command = 'contract' AND "
                                     "result = %s", (r,))[0][0] for r in ("refused", "succeeded"))
    assert refused == {"seconds": 3600.0, "from": "[tool.migrator.release] soak (or default)"}
    assert succeeded == {"seconds": 0.0, "from": "--soak"}


def test_a_failed_switch_sends_traffic_back_to_blue(demo):
    from migrator.release import commands
    from migrator.release.errors import HookFailed

    needs_applier()
    repo, config, ops, url, _ = demo
    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    (ops / "fail-verify").write_text("once")
    with pytest.raises(HookFailed, match="failed at verify"):
        commands.switch(ctx_for(repo, config, url, evidence=evidence_for(url, repo, ops / "e.json")))
    assert colour(ops) == "blue" and state_of(url, rid) == ("migrated", "blue")
    assert [(c, r) for c, r, _, _ in events(url, rid)][-3:] == [
        ("switch", "started"), ("switch", "failed"), ("rollback", "succeeded")]
    assert commands.switch(ctx_for(repo, config, url, evidence=ops / "e.json"))["state"] == "switched"


def test_rollback_is_refused_once_the_contract_started(demo):
    from migrator.release import commands
    from migrator.release.errors import PreconditionFailed

    needs_applier()
    repo, config, ops, url, _ = demo
    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    commands.switch(ctx_for(repo, config, url, evidence=evidence_for(url, repo, ops / "e.json")))
    # a contract run that died half-way (SIGKILL after its first event)
    query(url, "INSERT INTO migrator.events (release_id, actor, command, result) VALUES (%s, 't', 'contract', "
               "'started')", (rid,))
    with pytest.raises(PreconditionFailed, match=r"contract has started.*run `migrator contract` first"):
        commands.rollback(ctx_for(repo, config, url))
    assert colour(ops) == "green"


# --- coordinator, drift, ledger faults ----------------------------------------------------------------------------


@contextmanager
def holding_coordinator(url: str):
    import psycopg

    from migrator.release.commands import libpq_url
    from migrator.release.coordinator import LOCK_KEY

    conn = psycopg.connect(libpq_url(url), autocommit=True, application_name="other-migrator")
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        yield conn
    finally:
        conn.close()


def test_a_second_command_exits_at_once_or_waits(demo):
    from migrator.release import commands
    from migrator.release.errors import CoordinatorBusy

    repo, config, ops, url, _ = demo
    commands.plan(ctx_for(repo, config, url, blue="blue"))
    with holding_coordinator(url) as other:
        started = time.monotonic()
        with pytest.raises(CoordinatorBusy, match=r"another migrator command is running.*other-migrator.*--wait"):
            commands.plan(ctx_for(repo, config, url, blue="blue"))
        assert time.monotonic() - started < 5
        assert CoordinatorBusy.exit_code == 2
        threading.Timer(0.5, other.close).start()
        started = time.monotonic()
        assert commands.plan(ctx_for(repo, config, url, blue="blue", wait=20))["result"] == "noop"
        assert 0.3 < time.monotonic() - started < 15


def test_drift_between_ledger_and_alembic_is_an_error(demo):
    from migrator.release import commands
    from migrator.release.errors import ReleaseError

    needs_applier()
    repo, config, ops, url, _ = demo
    commands.plan(ctx_for(repo, config, url, blue="blue"))
    expand_for(repo, config, url)
    query(url, "UPDATE alembic_version SET version_num = '0001'")  # somebody ran `alembic downgrade`
    with pytest.raises(ReleaseError, match=r"database is at alembic revision 0001, but release .* is 'expanded' "
                                           r"and expects one of 0003, 0004"):
        commands.migrate(ctx_for(repo, config, url))
    assert commands.status(ctx_for(repo, config, url))["drift"]


def test_unknown_ledger_version_is_an_error(demo):
    from migrator.release import commands
    from migrator.release.errors import ReleaseError

    repo, config, ops, url, _ = demo
    commands.plan(ctx_for(repo, config, url, blue="blue"))
    query(url, "UPDATE migrator.ledger_meta SET version = 99")
    with pytest.raises(ReleaseError, match=r"ledger in schema 'migrator' has version \[99\]"):
        commands.expand(ctx_for(repo, config, url))


def test_database_down_is_exit_2_without_the_password():
    from migrator.release import commands
    from migrator.release.errors import ReleaseError

    url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:1/nowhere"
    ctx = commands.ReleaseContext(database_url=url, project_dir=Path(__file__).parents[2])
    with pytest.raises(ReleaseError) as info:
        commands.status(ctx)
    assert info.value.exit_code == 2 and PASSWORD not in str(info.value) and "***" in str(info.value)


def test_no_release_planned(demo):
    from migrator.release import commands
    from migrator.release.errors import PreconditionFailed

    repo, config, ops, url, _ = demo
    with pytest.raises(PreconditionFailed, match=r"no release is planned; run `migrator plan --blue <ref>` first"):
        commands.expand(ctx_for(repo, config, url))  # the missing step first, before any evidence
    status = commands.status(ctx_for(repo, config, url))
    assert status["state"] is None and status["next_command"].startswith("migrator plan")


# --- crashes ------------------------------------------------------------------------------------------------------


def test_killed_between_applying_and_recording_the_state(demo):
    """A command killed after its revisions committed but before the state moved: the re-run finds them
    applied (alembic_version is the truth), applies nothing twice, and moves the state."""
    from migrator.release import commands
    from migrator.release.applier import apply_revisions
    from migrator.release.ledger import Ledger

    needs_applier()
    repo, config, ops, url, _ = demo
    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    ctx = ctx_for(repo, config, url).resolve()
    conn = commands.connect(url)
    try:
        release = Ledger(conn).get(rid)
    finally:
        conn.close()
    assert apply_revisions(url, repo, "alembic.ini", release, "expand", ["0003"], "migrator", ctx.settings) == ["0003"]
    done = expand_for(repo, config, url)
    assert done["state"] == "expanded" and done["applied"] == []
    assert query(url, "SELECT revision FROM migrator.applied WHERE release_id = %s", (rid,)) == [("0003",)]


@pytest.mark.slow
def test_sigkill_during_the_migrate_backfill_then_rerun(tmp_path, demo_template):
    """`migrator migrate` killed with SIGKILL in the middle of the batched backfill: the release stays
    'expanded', the re-run finishes from the checkpoint, every row is filled exactly once."""
    import shutil
    import signal
    import subprocess

    from migrator.release import commands
    from tests._cli import migrator_command

    needs_applier()
    repo = tmp_path / "app"
    shutil.copytree(demo_template, repo, symlinks=True)
    config = write_release_config(tmp_path / "ops")
    with fresh_database() as (url, _):
        to_blue(repo, url, users=400_000)
        rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
        expand_for(repo, config, url)
        env = {**os.environ, "MIGRATOR_DATABASE_URL": url}
        proc = subprocess.Popen([*migrator_command(), "migrate", "--config", str(config)], cwd=repo, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                rows = query(url, "SELECT to_regclass('migrator.checkpoints') IS NOT NULL")[0][0] and query(
                    url, "SELECT coalesce(max(rows_done), 0) FROM migrator.checkpoints")[0][0]
                if rows and rows >= 20_000:
                    break
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        left = query(url, "SELECT count(*) FROM users WHERE full_name IS NULL")[0][0]
        assert 0 < left < 400_000, left
        assert state_of(url, rid) == ("expanded", "blue")
        assert events(url, rid)[-1][:2] == ("migrate", "started")
        done = commands.migrate(ctx_for(repo, config, url))
        assert done["state"] == "migrated" and done["applied"] == ["0004"]
        counts = query(url, "SELECT count(*), count(*) FILTER (WHERE full_name = name) FROM users")[0]
        assert counts == (400_000, 400_000)
        applied = query(url, "SELECT revision FROM migrator.applied WHERE release_id = %s", (rid,))
        assert applied == [("0003",), ("0004",)]


@pytest.mark.slow
def test_database_connections_dropped_mid_migrate_then_rerun(tmp_path, demo_template):
    """Every connection to the database is terminated (a restart, a failover) in the middle of the backfill:
    exit 2 with a clear, password-free message; the release stays 'expanded'; the re-run finishes."""
    import shutil
    import subprocess

    from migrator.release import commands
    from tests._cli import migrator_command

    needs_applier()
    repo = tmp_path / "app"
    shutil.copytree(demo_template, repo, symlinks=True)
    config = write_release_config(tmp_path / "ops")
    with fresh_database(password=True) as (url, name):
        to_blue(repo, url, users=400_000)
        rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
        expand_for(repo, config, url)
        env = {**os.environ, "MIGRATOR_DATABASE_URL": url}
        proc = subprocess.Popen([*migrator_command(), "migrate", "--config", str(config)], cwd=repo, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if query(url, "SELECT to_regclass('migrator.checkpoints') IS NOT NULL")[0][0] and query(
                        url, "SELECT coalesce(max(rows_done), 0) FROM migrator.checkpoints")[0][0] >= 20_000:
                    break
                time.sleep(0.02)
            admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                  "AND pid <> pg_backend_pid()", (name,))
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 2, (out, err)
        assert "migrator:" in err and PASSWORD not in out + err and "Traceback" not in err
        assert state_of(url, rid) == ("expanded", "blue")
        done = commands.migrate(ctx_for(repo, config, url))
        assert done["state"] == "migrated"
        assert query(url, "SELECT count(*) FILTER (WHERE full_name = name) FROM users")[0][0] == 400_000


def test_lock_timeout_zero_is_refused_unless_no_lock_timeout_with_a_reason(demo):
    """`migrate --lock-timeout 0` would let DDL wait forever while application queries queue behind it: exit 2,
    nothing applied. `--no-lock-timeout --reason TEXT` runs without one, and the ledger records it."""
    from tests._cli import assert_one_line_error, run

    needs_applier()
    repo, config, ops, url, _ = demo
    from migrator.release import commands

    rid = commands.plan(ctx_for(repo, config, url, blue="blue"))["release_id"]
    expand_for(repo, config, url)
    env = {"MIGRATOR_DATABASE_URL": url}
    for value in ("0", "0.2ms"):
        refused = run("migrate", "--lock-timeout", value, "--config", str(config), cwd=repo, env=env)
        assert_one_line_error(refused, code=2, contains=f"--lock-timeout {value}: 0 (or less than 1ms) means DDL "
                                                        "waits for its locks forever")
    assert_one_line_error(run("migrate", "--no-lock-timeout", "--config", str(config), cwd=repo, env=env),
                          code=2, contains="--no-lock-timeout needs --reason TEXT")
    assert_one_line_error(run("migrate", "--no-lock-timeout", "--lock-timeout", "1s", "--reason", "x", "--config",
                              str(config), cwd=repo, env=env), code=2, contains="exclude each other")
    assert state_of(url, rid) == ("expanded", "blue")
    assert [c for c, r, _, _ in events(url, rid) if r == "started"] == ["expand"]  # nothing was started
    done = run("migrate", "--no-lock-timeout", "--reason", "INC-7: the table is only ours tonight", "--config",
               str(config), cwd=repo, env=env)
    assert done.code == 0, done.err
    assert "runs without a lock timeout (--no-lock-timeout: INC-7" in done.err
    started = query(url, "SELECT detail, reason, forced FROM migrator.events WHERE release_id = %s AND command = "
                         "'migrate' AND result = 'started'", (rid,))
    assert started == [({"revisions": ["0004"], "lock_timeout_ms": 0, "lock_retries": 3, "no_lock_timeout": True},
                        "INC-7: the table is only ours tonight", False)]


def test_contract_preflight_counts_the_rows_that_would_make_it_fail(demo):
    """The plan counts, on the live data, the rows that would make a contract statement fail; `contract` re-runs the
    counts in its gate and refuses with the numbers; once the data is fixed it goes through."""
    from migrator.release import commands
    from migrator.release.errors import GateRefused

    needs_applier()
    repo, config, ops, url, _ = demo
    commands.plan(ctx_for(repo, config, url, blue="blue"))
    expand_for(repo, config, url)
    commands.migrate(ctx_for(repo, config, url))
    commands.switch(ctx_for(repo, config, url, evidence=evidence_for(url, repo, ops / "e.json")))
    # a row written behind the sync trigger's back: the contract's NOT NULL on full_name would fail on it
    query(url, "ALTER TABLE users DISABLE TRIGGER USER")
    query(url, "INSERT INTO users (name, email) VALUES ('ghost', 'ghost@example.com')")
    query(url, "UPDATE users SET full_name = NULL WHERE email = 'ghost@example.com'")
    query(url, "ALTER TABLE users ENABLE TRIGGER USER")
    planned = commands.plan(ctx_for(repo, config, url, record=False))
    counts = [p for rev in planned["plan"]["phases"]["contract"] for s in rev["statements"] for p in s["preflight"]]
    assert counts and any(p["fails"] and p["count"] == 1 and "users.full_name that is NULL" in p["message"]
                          for p in counts), counts
    with pytest.raises(GateRefused, match=r"preflight: contract .*would fail: 1 row in users.full_name that is NULL"):
        commands.contract(ctx_for(repo, config, url))
    assert has_column(url, "users", "name")  # nothing of the contract ran
    query(url, "UPDATE users SET full_name = name WHERE full_name IS NULL")
    done = commands.contract(ctx_for(repo, config, url))
    assert done["state"] == "contracted"
    assert any(c["name"] == "preflight" and c["status"] == "pass" for c in done["gate"]["checks"])
