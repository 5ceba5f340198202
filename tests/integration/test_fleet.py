"""`migrator fleet`: one release across many databases, on the test PostgreSQL server (tests/conftest.py).

Each live test makes its own fleet of 50+ uniquely named databases (tests/_fleet.py, copies of a template at blue's
schema) and drops exactly those. The URLs carry a password (trust auth ignores it): it must never be printed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import _fleet as kit

PASSWORD = "Fl33tS3cretPw"
SIZE = 50


needs_pg = pytest.mark.usefixtures("pg_server")  # tests/conftest.py: skipped without a server, marked postgres


def secret_urls(fleet: kit.Fleet) -> list[str]:
    return [kit._server.url(n, driver="postgresql+psycopg", password=PASSWORD) for n in fleet.names]


def run(config: Path, repo: Path, *args: str, timeout: float = 900):
    proc = kit.migrator("fleet", *args, "--project-dir", str(repo), "--config", str(config), timeout=timeout)
    assert PASSWORD not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def as_json(proc) -> dict:
    return json.loads(proc.stdout)


def state(name: str) -> str | None:
    rows = kit_query(name, "SELECT state FROM migrator.releases ORDER BY created_at DESC LIMIT 1")
    return rows[0][0] if rows else None


def kit_query(name: str, text: str, params=None) -> list[tuple]:
    import psycopg

    with psycopg.connect(kit.libpq_of(name), autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT to_regclass('migrator.releases')").fetchone()[0]
        if exists is None and "migrator." in text:
            return []
        return conn.execute(text, params).fetchall()


def alembic_at(name: str) -> str:
    return kit_query(name, "SELECT version_num FROM alembic_version")[0][0]


def events_of(name: str, command: str) -> list[tuple]:
    return kit_query(name, "SELECT result FROM migrator.events WHERE command = %s ORDER BY id", (command,))


@pytest.fixture
def repo(tmp_path) -> Path:
    return kit.make_repo(tmp_path)


@pytest.fixture
def fleet():
    with kit.Fleet(SIZE) as made:
        yield made


# --- without a database: shards, waves, config -------------------------------------------------------------------


def test_shards_partition_the_fleet_by_identity_not_order():
    from migrator.fleet.config import members
    from migrator.fleet.shards import Shard, shard_of

    urls = [f"postgresql://u:pw@db{i % 7}.example:5432/tenant_{i}" for i in range(5000)]
    fleet = members(urls)
    for count in (1, 2, 3, 4, 7, 16):
        slices = [{m.identity for m in fleet if Shard(i, count).holds(m.identity)} for i in range(count)]
        assert sum(len(s) for s in slices) == len(fleet)  # every database in one shard...
        assert set().union(*slices) == {m.identity for m in fleet}
        for a in range(count):  # ... and in no other
            for b in range(a + 1, count):
                assert not slices[a] & slices[b]
        if count > 1:
            assert min(len(s) for s in slices) > len(fleet) / count * 0.8  # roughly even
    # the list's order (or another user, another password) does not move a database
    shuffled = members(list(reversed([u.replace("u:pw@", "other:x@") for u in urls])))
    assert {m.identity: shard_of(m.identity, 4) for m in shuffled} == {m.identity: shard_of(m.identity, 4)
                                                                       for m in fleet}


def test_shard_option_and_job_completion_index():
    from migrator.errors import UsageError
    from migrator.fleet.shards import parse_shard

    assert str(parse_shard("1/4")) == "1/4"
    assert str(parse_shard("auto/4", {"JOB_COMPLETION_INDEX": "3"})) == "3/4"
    assert str(parse_shard(None)) == "0/1"
    for bad, env in (("4/4", {}), ("x/2", {}), ("1", {}), ("0/0", {}), ("auto/3", {}),
                     ("auto/3", {"JOB_COMPLETION_INDEX": "5"})):
        with pytest.raises(UsageError):
            parse_shard(bad, env)


def test_waves_canary_then_cumulative_percentages():
    from migrator.errors import ConfigError
    from migrator.fleet.config import members
    from migrator.fleet.waves import plan_waves

    fleet = members([f"postgresql://h/db{i}" for i in range(41)])
    waves = plan_waves(fleet, 1, [10, 50, 100])
    assert [(w.name, len(w.members)) for w in waves] == [("canary", 1), ("1", 4), ("2", 16), ("3", 20)]
    assert waves[0].members[0].identity == "h:5432/db0"
    assert [w.name for w in plan_waves(fleet[:2], 1, [10, 50, 100])] == ["canary", "1"]
    named = plan_waves(fleet, "db7", [100])
    assert named[0].members[0].identity == "h:5432/db7" and len(named[1].members) == 40
    assert len(plan_waves(fleet, 3, [100])[0].members) == 3
    with pytest.raises(ConfigError):
        plan_waves(fleet, "nope", [100])


def test_config_sources_and_errors(tmp_path):
    from migrator.errors import ConfigError
    from migrator.fleet.config import list_databases, load_fleet_config

    def config(text: str):
        path = tmp_path / "pyproject.toml"
        path.write_text("[tool.migrator.fleet]\n" + text, encoding="utf-8")
        return load_fleet_config(path)

    script = tmp_path / "tenants.sh"
    script.write_text("echo postgresql://a@h/t1\necho\necho '# a comment'\necho postgresql://a@h/t2\n")
    cfg = config(f'command = "sh {script}"\nconcurrency = 3\n')
    assert [m.identity for m in list_databases(cfg)] == ["h:5432/t1", "h:5432/t2"] and cfg.concurrency == 3
    failing = config('command = "echo postgresql://u:S3cr3tZ@h/t1; echo boom >&2; exit 3"\n')
    with pytest.raises(ConfigError, match="exited 3: boom") as exc:
        list_databases(failing)
    assert "S3cr3tZ" not in str(exc.value)
    for text, message in (('urls = ["postgresql://h/a"]\ncommand = "x"\n', "one source"),
                          ('urls = ["postgresql://h/a"]\nwaves = [50, 40, 100]\n', "rise"),
                          ('urls = ["postgresql://h/a"]\nwaves = [10, 50]\n', "last wave must be 100"),
                          ('urls = ["postgresql://h/a"]\nconcurrency = 0\n', "concurrency"),
                          ('urls = ["postgresql://h/a"]\nflavour = 1\n', "unknown key"),
                          ('query = "SELECT 1"\n', None)):
        if message is None:
            with pytest.raises(ConfigError, match="registry"):
                list_databases(config(text))
            continue
        with pytest.raises(ConfigError, match=message):
            list_databases(config(text))
    with pytest.raises(ConfigError, match="twice"):
        list_databases(config('urls = ["postgresql://a:x@h/t1", "postgresql://b@h:5432/t1"]\n'))


@needs_pg
def test_registry_query_lists_the_fleet(tmp_path, monkeypatch):
    from migrator.fleet.config import list_databases, load_fleet_config

    with kit.Fleet(0) as made:
        registry = made.extra("registry")
        kit.run_sql(registry, "CREATE TABLE tenants (id int, url text, active bool)",
                    "INSERT INTO tenants VALUES (2, 'postgresql://app@h/t2', true), (1, 'postgresql://app@h/t1', true),"
                    " (3, 'postgresql://app@h/t3', false)")
        path = tmp_path / "pyproject.toml"
        path.write_text('[tool.migrator.fleet]\nquery = "SELECT url FROM tenants WHERE active ORDER BY id"\n'
                        'registry_url_env = "TENANTS_URL"\n', encoding="utf-8")
        monkeypatch.setenv("TENANTS_URL", kit.url_of(registry))
        assert [m.identity for m in list_databases(load_fleet_config(path))] == ["h:5432/t1", "h:5432/t2"]


# --- live fleets --------------------------------------------------------------------------------------------------


def test_a_fleet_command_asks_git_where_the_checkout_stands_once(tmp_path, monkeypatch):
    """release.commands.pinned_checkout, which a fleet command holds: every database's checkout check reads the one
    answer (four git processes per database otherwise); outside it, git is asked again."""
    from migrator.compat import git
    from migrator.release import commands

    repo = kit.make_repo(tmp_path)
    asked = []
    real = git.resolve_ref
    monkeypatch.setattr(git, "resolve_ref", lambda *a, **k: asked.append(a) or real(*a, **k))
    with commands.pinned_checkout(repo):
        first = commands.git_info(repo)
        kit.git(repo, "commit", "--allow-empty", "-q", "-m", "moved on")
        assert [commands.git_info(repo / ".") for _ in range(5)] == [first] * 5
    assert len(asked) == 1 and first.sha == kit.git(repo, "rev-parse", "HEAD~1")
    assert commands.git_info(repo).sha == kit.git(repo, "rev-parse", "HEAD") != first.sha


@needs_pg
@pytest.mark.slow
def test_fleet_release_end_to_end(tmp_path, repo, fleet):
    """plan, expand, migrate, status; the one switch on the canary; contract --after-switch; counts add up."""
    ops = tmp_path / "ops"
    config = kit.write_config(ops, secret_urls(fleet), concurrency=8)
    evidence = kit.write_evidence(fleet, repo, ops / "compat.json")

    planned = run(config, repo, "plan", "--blue", "blue", "--format", "json")
    assert planned.returncode == 0, planned.stderr
    result = as_json(planned)
    assert result["counts"] == {"done": SIZE} and result["release_id"]
    assert [w["databases"] for w in result["waves"]] == [1, 5, 20, 24]
    release_id = result["release_id"]
    assert {kit_query(n, "SELECT id FROM migrator.releases")[0][0] for n in fleet.names} == {release_id}

    status = as_json(run(config, repo, "status", "--format", "json"))
    assert status["counts"] == {"planned": SIZE} and status["databases_total"] == SIZE
    assert sum(sum(w["counts"].values()) for w in status["waves"]) == SIZE

    for phase, args in (("expand", ["--evidence", str(evidence)]), ("migrate", [])):
        proc = run(config, repo, phase, *args)
        assert proc.returncode == 0, proc.stderr
        assert f"{phase}: {SIZE} done, 0 already" in proc.stdout
    again = run(config, repo, "migrate", "--format", "json")  # a re-run reads the ledgers and skips them all
    assert again.returncode == 0 and as_json(again)["counts"] == {"skipped": SIZE}
    assert {alembic_at(n) for n in fleet.names} == {"0003"}

    text = run(config, repo, "status")
    assert text.returncode == 0
    assert f"total       {SIZE}  {SIZE} migrated" in text.stdout
    assert "the whole fleet is expanded and migrated" in text.stdout and "migrator switch" in text.stdout
    assert as_json(run(config, repo, "status", "--format", "json"))["switch_ready"] is True

    # contract before the one switch: refused (exit 1), nothing touched
    refused = run(config, repo, "contract", "--after-switch")
    assert refused.returncode == 1 and "router switch is not recorded" in refused.stderr
    assert {state(n) for n in fleet.names} == {"migrated"}

    # the one router call: `migrator switch` against the canary
    switch = kit.migrator("switch", "--to", "green", "--evidence", str(evidence), "--database-url",
                          secret_urls(fleet)[0], "--project-dir", str(repo), "--config", str(config))
    assert switch.returncode == 0, switch.stderr
    without = run(config, repo, "contract")
    assert without.returncode == 1 and "--after-switch" in without.stderr
    assert {state(n) for n in fleet.names[1:]} == {"migrated"} and state(fleet.names[0]) == "switched"

    contracted = run(config, repo, "contract", "--after-switch", "--format", "json")
    assert contracted.returncode == 0, contracted.stderr
    assert as_json(contracted)["counts"] == {"done": SIZE}
    assert {state(n) for n in fleet.names} == {"contracted"} and {alembic_at(n) for n in fleet.names} == {"0004"}
    actions = [json.loads(line)["action"] for line in (ops / "colour.log").read_text().splitlines()]
    assert actions.count("switch") == 1  # the router moved once for the whole fleet
    ack = kit_query(fleet.names[7], "SELECT detail FROM migrator.events WHERE command = 'switch'")[0][0]
    assert ack["fleet"]["router_called"] is False and fleet.names[0] in ack["fleet"]["router_switch"]["database"]
    final = as_json(run(config, repo, "status", "--format", "json"))
    assert final["counts"] == {"contracted": SIZE} and final["tampered"] == 0
    assert final["message"] == "the whole fleet is contracted"


@needs_pg
@pytest.mark.slow
def test_a_failing_database_stops_its_wave(tmp_path, repo, fleet):
    """A failing canary: exit 1 naming it, no other database touched. Then a failure in wave 2 with concurrency
    1: the databases after it and the later waves do not start; the fix and a re-run finish the fleet."""
    ops = tmp_path / "ops"
    config = kit.write_config(ops, secret_urls(fleet), concurrency=1)
    evidence = kit.write_evidence(fleet, repo, ops / "compat.json")
    assert run(config, repo, "plan", "--blue", "blue", "--concurrency", "8").returncode == 0
    canary, bad = fleet.names[0], fleet.names[10]  # fleet.names[10] is in wave 2 (positions 6..25)
    for name in (canary, bad):  # the live schema is no longer blue's: the expand gate refuses
        kit.run_sql(name, "ALTER TABLE items ADD COLUMN stray int")

    stopped = run(config, repo, "expand", "--evidence", str(evidence), "--format", "json")
    assert stopped.returncode == 1
    result = as_json(stopped)
    assert result["result"] == "failed" and result["failed"]["wave"] == "canary"
    assert canary in result["failed"]["database"] and PASSWORD not in result["failed"]["database"]
    assert "expand gate refused" in result["failed"]["message"] and "schema" in result["failed"]["message"]
    assert result["counts"] == {"failed": 1, "not_started": SIZE - 1}
    assert "wave canary stopped at its first failure" in stopped.stderr
    for name in fleet.names[1:]:
        assert events_of(name, "expand") == [] and alembic_at(name) == "0001"
    status = as_json(run(config, repo, "status", "--format", "json"))
    assert status["counts"] == {"planned": SIZE} and status["stopped"] == 1
    assert status["waves"][0]["stopped"] == 1

    kit.run_sql(canary, "ALTER TABLE items DROP COLUMN stray")
    second = run(config, repo, "expand", "--evidence", str(evidence), "--format", "json")
    assert second.returncode == 1
    result = as_json(second)
    assert result["failed"]["wave"] == "2" and bad in result["failed"]["database"]
    by_name = {d["identity"].rsplit("/", 1)[1]: d for d in result["databases"]}
    assert [by_name[n]["result"] for n in fleet.names[:6]] == ["done"] * 6  # canary and wave 1
    assert [by_name[n]["result"] for n in fleet.names[6:10]] == ["done"] * 4  # wave 2 before the failure
    assert {by_name[n]["result"] for n in fleet.names[11:]} == {"not_started"}
    for name in fleet.names[11:]:
        assert events_of(name, "expand") == []

    kit.run_sql(bad, "ALTER TABLE items DROP COLUMN stray")
    last = run(config, repo, "expand", "--evidence", str(evidence), "--concurrency", "8", "--format", "json")
    assert last.returncode == 0, last.stderr
    assert as_json(last)["counts"] == {"skipped": 10, "done": SIZE - 10}
    assert {state(n) for n in fleet.names} == {"expanded"}


def _expanded_count(names: list[str]) -> int:
    return sum(1 for n in names if state(n) == "expanded")


@needs_pg
@pytest.mark.slow
def test_sigkilled_shard_is_resumed_and_shards_never_overlap(tmp_path, repo, fleet):
    """Two shards side by side (an Indexed Job of two pods, --shard auto/2): one is SIGKILLed mid-wave and run
    again; both finish, every database is expanded exactly once, and the two never touched the same database."""
    from migrator.fleet.config import identity
    from migrator.fleet.shards import shard_of

    ops = tmp_path / "ops"
    config = kit.write_config(ops, secret_urls(fleet), concurrency=2, waves=(20, 100))
    evidence = kit.write_evidence(fleet, repo, ops / "compat.json")
    assert run(config, repo, "plan", "--blue", "blue", "--concurrency", "8").returncode == 0
    held = {i: [n for n in fleet.names if shard_of(identity(kit.url_of(n)), 2) == i] for i in (0, 1)}
    assert held[0] and held[1]

    def start(index: int) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "migrator.cli", "fleet", "expand", "--evidence", str(evidence), "--shard", "auto/2",
             "--wave-wait", "300", "--format", "json", "--project-dir", str(repo), "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, "JOB_COMPLETION_INDEX": str(index)})

    victim = shard_of(identity(kit.url_of(fleet.names[-1])), 2)  # the shard holding the last wave's last one
    other = 1 - victim
    procs = {victim: start(victim), other: start(other)}
    deadline = time.monotonic() + 300
    while _expanded_count(held[victim]) < 4:
        assert procs[victim].poll() is None, procs[victim].communicate()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(procs[victim].pid, signal.SIGKILL)  # the pod is gone: the process and its children
    procs[victim].wait()
    assert procs[victim].returncode == -signal.SIGKILL
    assert _expanded_count(held[victim]) < len(held[victim])  # it really was stopped halfway

    rerun = start(victim)  # Kubernetes starts the pod again with the same index
    outputs = {}
    for index, proc in ((victim, rerun), (other, procs[other])):
        out, err = proc.communicate(timeout=600)
        assert PASSWORD not in out + err and "Traceback" not in err
        assert proc.returncode == 0, err[-2000:]
        outputs[index] = json.loads(out)

    touched = {i: {d["identity"] for d in outputs[i]["databases"] if d["result"] in ("done", "noop")} for i in (0, 1)}
    listed = {i: {d["identity"] for d in outputs[i]["databases"]} for i in (0, 1)}
    assert not listed[0] & listed[1] and len(listed[0] | listed[1]) == SIZE
    assert not touched[0] & touched[1]
    for i in (0, 1):
        assert {d["identity"].rsplit("/", 1)[1] for d in outputs[i]["databases"]} == set(held[i])
    # the same end state as an uninterrupted run: every database expanded, 0002 applied once, ledgers intact
    for name in fleet.names:
        assert state(name) == "expanded" and alembic_at(name) == "0002"
        assert kit_query(name, "SELECT count(*) FROM migrator.applied WHERE revision = '0002'")[0][0] == 1
    status = as_json(run(config, repo, "status", "--format", "json"))
    assert status["counts"] == {"expanded": SIZE} and status["tampered"] == 0 and status["errors"] == 0
    per_shard = [as_json(run(config, repo, "status", "--shard", f"{i}/2", "--format", "json")) for i in (0, 1)]
    assert sum(s["databases_total"] for s in per_shard) == SIZE


@needs_pg
def test_usage_and_infrastructure_errors_are_one_line(tmp_path, repo):
    ops = tmp_path / "ops"
    config = kit.write_config(ops, [f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/nowhere"])
    down = run(config, repo, "expand", "--evidence", str(ops / "x.json"))
    assert down.returncode == 1 and "canary" in down.stderr and "127.0.0.1:1" in down.stderr
    status = run(config, repo, "status")
    assert status.returncode == 2 and "could not be read" in status.stderr
    bad = run(config, repo, "migrate", "--shard", "3/2")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    missing = kit.migrator("fleet", "status", "--project-dir", str(repo), "--config", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and "not found" in missing.stderr


def release_ids(names: list[str]) -> set[str]:
    return {row[0] for n in names for row in kit_query(n, "SELECT id FROM migrator.releases")}


def allow_connections(name: str, allowed: bool) -> None:
    from psycopg import sql

    kit.admin(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(sql.Identifier(name), sql.Literal(allowed)))


@needs_pg
def test_every_database_is_planned_under_the_canarys_release_id(tmp_path, repo):
    """Two canaries: the second is down at the first `fleet plan`, which plans the first one; the re-run (a
    later second) plans the second under the first one's release id, not under one stamped from its own clock (two
    canaries planned side by side across a second boundary got two ids the same way)."""
    with kit.Fleet(3) as fleet:
        config = kit.write_config(tmp_path / "ops", secret_urls(fleet), canary=2)
        allow_connections(fleet.names[1], False)
        try:
            first = run(config, repo, "plan", "--blue", "blue")
        finally:
            allow_connections(fleet.names[1], True)
        assert first.returncode == 2 and "not currently accepting connections" in first.stderr, first.stderr
        (planned,) = release_ids(fleet.names[:1])
        time.sleep(1.1)  # release ids are stamped to the second
        again = run(config, repo, "plan", "--blue", "blue", "--format", "json")
        assert again.returncode == 0, again.stderr
        assert as_json(again)["release_id"] == planned and release_ids(fleet.names) == {planned}


@needs_pg
def test_the_soak_is_served_once_on_the_canary_that_records_the_switch(tmp_path, repo):
    """Two canaries, soak 1h: the canary that records the switch refuses on its soak, and the other canary (same
    wave) is not acknowledged or contracted; the rest are untouched."""
    with kit.Fleet(5) as fleet:
        ops = tmp_path / "ops"
        config = kit.write_config(ops, secret_urls(fleet), canary=2, soak="1h")
        evidence = kit.write_evidence(fleet, repo, ops / "compat.json")
        for args in (("plan", "--blue", "blue"), ("expand", "--evidence", str(evidence)), ("migrate",)):
            assert run(config, repo, *args).returncode == 0
        switch = kit.migrator("switch", "--to", "green", "--evidence", str(evidence), "--database-url",
                              secret_urls(fleet)[0], "--project-dir", str(repo), "--config", str(config))
        assert switch.returncode == 0, switch.stderr
        refused = run(config, repo, "contract", "--after-switch", "--format", "json")
        assert refused.returncode == 1
        result = as_json(refused)
        assert fleet.names[0] in result["failed"]["database"] and "soak" in result["failed"]["message"]
        assert result["counts"] == {"failed": 1, "not_started": 4}
        assert state(fleet.names[0]) == "switched" and {state(n) for n in fleet.names[1:]} == {"migrated"}
        assert events_of(fleet.names[1], "switch") == []
