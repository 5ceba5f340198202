"""`migrator compat` end to end: real git, real PostgreSQL (127.0.0.1:5432 through the url provider, plus
one embedded and one local run), the demo app's blue / green / green-broken releases, through the API
(`compat()`) and the CLI in a subprocess. Faults are in tests/integration/test_compat_faults.py."""

from __future__ import annotations

import json
import logging
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from migrator.compat.errors import CompatError
from migrator.compat.options import CompatOptions
from migrator.compat.render import render_compat
from migrator.evidence import load_evidence
from migrator.compat.run import compat
from migrator.provision import EmbeddedProvider, LocalProvider
from tests import _server
from tests._cli import migrator_command
from tests._compat_e2e import (  # noqa: F401  (fixtures)
    PASSWORD,
    PW_ROLE,
    URL,
    URL_ARGS,
    admin_query,
    assert_clean_error,
    cli_env,
    databases,
    drop_database,
    e2e_repo,
    leftovers,
    run_cli,
    sha,
    template_for,
)

pytestmark = [pytest.mark.usefixtures("pg_server"), pytest.mark.slow,
              pytest.mark.xdist_group("compat_e2e")]  # one worker builds the e2e repository and its templates

FAILING_TEST = "compat_tests/test_users.py::test_insert_and_read_back"
BROKEN_ERROR = "users.full_name is required"
HEX64 = re.compile(r"[0-9a-f]{64}")
ROOT = Path(__file__).resolve().parents[2]


def _drop_role_and_its_databases() -> None:
    for (name,) in admin_query("SELECT d.datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                               "WHERE r.rolname = %s", (PW_ROLE,)):
        drop_database(name)
    admin_query(f"DROP ROLE IF EXISTS {PW_ROLE}")


@pytest.fixture(scope="module")
def password_url():
    """A role with a password (trust auth ignores it, but migrator must never show it)."""
    _drop_role_and_its_databases()
    admin_query(f"CREATE ROLE {PW_ROLE} WITH LOGIN PASSWORD '{PASSWORD}' CREATEDB")
    try:
        yield _server.url("postgres", password=PASSWORD).replace(f"//{_server.USER}:", f"//{PW_ROLE}:", 1)
    finally:
        _drop_role_and_its_databases()


def options(repo: Path, green: str, **kw) -> CompatOptions:
    kw.setdefault("provider", "url")
    kw.setdefault("database_url", URL)
    return CompatOptions(blue=kw.pop("blue", "blue"), green=green, repo=repo, **kw)


def assert_report_only(out: str, verdict: str) -> None:
    """stdout is the report and nothing else: no log line, no pytest output."""
    assert out.startswith(f"compat {verdict}: blue "), out[:300]
    assert "migrator:" not in out and " passed in " not in out and "short test summary" not in out, out


def read_evidence(path) -> dict:
    """The evidence file, validated as the gates read it (every field, version 2)."""
    return load_evidence(path).to_dict()


# --- 1. the good release ----------------------------------------------------------------------------


def test_good_release_passes_with_evidence_and_no_password(e2e_repo, leftovers, password_url, tmp_path):
    # through the API as postgres first: blue's template is then built (or already there) for postgres
    first = compat(options(e2e_repo, "green"))
    assert first.result == "pass" and first.exit_code == 0, first.reason
    assert [(c.app, c.schema, c.result, c.total) for c in first.cells] == [("blue", "expanded", "pass", 7),
                                                                            ("green", "expanded", "pass", 7)]
    assert first.required_cells == ["blue/expanded", "green/expanded"]
    leftovers.check()

    # then through the CLI as a role with a password: never shown, and it gets a template of its own
    # (a clone of postgres's template would leave the role without rights on blue's tables)
    evidence = tmp_path / "out" / "evidence.json"
    run = run_cli(e2e_repo, "--blue", "blue", "--green", "green", "--provider", "url", "--database-url",
                  password_url, "--evidence", str(evidence), tmpdir=leftovers.tmpdir)
    assert run.code == 0, run.err[-3000:]
    assert "Traceback (most recent call last)" not in run.err
    assert_report_only(run.out, "PASS")
    assert "applied: 0003 (expand), 0004 (migrate); held back: 0005" in run.out
    text = evidence.read_text(encoding="utf-8")
    for where in (run.out, run.err, text):
        assert PASSWORD not in where and "S3cret" not in where
    leftovers.check(run.pid)

    data = read_evidence(evidence)
    assert data["result"] == "pass" and data["reason"] is None
    assert data["blue"] == {"ref": "blue", "sha": sha(e2e_repo, "blue")}
    assert data["green"]["ref"] == "green" and data["green"]["sha"] == sha(e2e_repo, "green")
    assert data["green"]["dirty"] is False
    revs = data["revisions"]
    assert revs["blue_heads"] == ["0002"]
    assert (revs["expand"], revs["migrate"], revs["held_back"]) == (["0003"], ["0004"], ["0005"])
    assert "contract" not in revs  # contract revisions are never applied
    # the same schema, the same fingerprint: across runs, roles and database names
    assert HEX64.fullmatch(data["schemas"]["expanded"]) and data["schemas"]["expanded"] == first.fingerprint
    assert HEX64.fullmatch(data["schemas"]["blue"]) and data["schemas"]["blue"] != first.fingerprint
    assert data["version"] == 2 and data["signature"] is None
    assert data["required_cells"] == ["blue/expanded", "green/expanded"]
    suite, green_cell = data["cells"]
    assert (suite["app"], suite["schema"], suite["result"]) == ("blue", "expanded", "pass")
    assert (green_cell["app"], green_cell["schema"], green_cell["result"]) == ("green", "expanded", "pass")
    assert (suite["passed"], suite["failed"], suite["errors"], suite["skipped"], suite["total"]) == (7, 0, 0, 0, 7)
    assert suite["failures"] == []
    # the proof checks itself: the suite ran on the schema under test from its first test to its last
    assert suite["fingerprint_before"] == suite["fingerprint_after"] == data["schemas"]["expanded"]
    assert 0 < data["duration_seconds"] < 60 and suite["duration"] > 0
    stamp = datetime.fromisoformat(data["timestamp"])
    assert stamp.tzinfo is not None and abs((datetime.now(stamp.tzinfo) - stamp).total_seconds()) < 120
    assert data["provider"] == "url" and data["postgres_version"] >= 100000


# --- 2. the broken release --------------------------------------------------------------------------


def test_broken_release_fails_naming_the_test(e2e_repo, leftovers, tmp_path):
    evidence = tmp_path / "evidence.json"
    run = run_cli(e2e_repo, "--blue", "blue", "--green", "green-broken", *URL_ARGS, "--format", "json",
                  "--evidence", str(evidence), tmpdir=leftovers.tmpdir)
    line = assert_clean_error(run, 1, "compat fail", "blue's suite fails on the expanded schema")
    assert "6 of 7 tests pass on blue's own schema and fail here" in line
    leftovers.check(run.pid)
    report = json.loads(run.out)  # stdout is the JSON report alone
    data = read_evidence(evidence)
    for doc in (report, data):
        assert doc["result"] == "fail"
        suite = doc["cells"][0]
        assert (suite["app"], suite["result"], suite["passed"], suite["failed"], suite["total"]) == \
            ("blue", "fail", 1, 6, 7)
        assert {f["attribution"] for f in suite["failures"]} == {"incompatible"}
        failures = {f["test"]: f["error"] for f in suite["failures"]}
        assert BROKEN_ERROR in failures[FAILING_TEST]
        assert all("\n" not in error for error in failures.values())
        assert doc["revisions"]["expand"] == ["0003"]
    good = compat(options(e2e_repo, "green")).fingerprint
    assert HEX64.fullmatch(data["schemas"]["expanded"]) and data["schemas"]["expanded"] != good

    text = run_cli(e2e_repo, "--blue", "blue", "--green", "green-broken", *URL_ARGS, tmpdir=leftovers.tmpdir)
    assert_clean_error(text, 1, "compat fail")
    assert_report_only(text.out, "FAIL")
    assert re.search(rf"FAILED \[blue/expanded\] 6 tests: .*{BROKEN_ERROR}\n(      .*\n)*      {re.escape(FAILING_TEST)}\n",
                     text.out), text.out
    leftovers.check(text.pid)
    leftovers.check()


# --- 3. --full --------------------------------------------------------------------------------------


def test_full_runs_green_on_the_contracted_schema_too(e2e_repo, leftovers, tmp_path):
    evidence = tmp_path / "full.json"
    run = run_cli(e2e_repo, "--blue", "blue", "--green", "green", "--full", *URL_ARGS, "--evidence", str(evidence),
                  tmpdir=leftovers.tmpdir)
    assert run.code == 0, run.err[-3000:]
    assert_report_only(run.out, "PASS")
    rows = re.findall(r"^  (blue|green)\s+(expanded|contracted)\s+(\w+)\s+(\d+)", run.out, re.M)
    assert [r[:3] for r in rows] == [("blue", "expanded", "pass"), ("green", "expanded", "pass"),
                                     ("green", "contracted", "pass")]
    data = read_evidence(evidence)
    suites = data["cells"]
    assert data["required_cells"] == ["blue/expanded", "green/expanded", "green/contracted"]
    assert data["schemas"]["contracted"] not in (None, data["schemas"]["expanded"])
    assert [(s["app"], s["schema"], s["result"]) for s in suites] == [r[:3] for r in rows]
    assert all(s["total"] > 0 and s["failed"] == s["errors"] == 0 for s in suites)
    leftovers.check(run.pid)


# --- 4. refused releases ----------------------------------------------------------------------------


@pytest.mark.parametrize("green, revision, words", [
    ("green-contract-first", "0004", "contract revision 0003 comes before expand revision 0004"),
    ("green-mislabelled", "0003", "revision 0003 is declared expand but classifies contract"),
])
def test_contract_in_the_way_is_refused(e2e_repo, leftovers, tmp_path, green, revision, words):
    evidence = tmp_path / "refused.json"
    run = run_cli(e2e_repo, "--blue", "blue", "--green", green, *URL_ARGS, "--evidence", str(evidence),
                  tmpdir=leftovers.tmpdir)
    assert_clean_error(run, 1, "refused", words)
    assert_report_only(run.out, "REFUSED")
    assert words in run.out
    data = read_evidence(evidence)
    assert data["result"] == "refused" and words in data["reason"] and data["cells"] == []
    leftovers.check(run.pid)

    result = compat(options(e2e_repo, green))
    assert (result.result, result.exit_code) == ("refused", 1)
    assert words in result.reason and revision in result.reason
    assert result.cells == [] and result.fingerprint is None
    leftovers.check()


# --- 6. the template cache --------------------------------------------------------------------------


def test_second_run_clones_blues_template(e2e_repo, leftovers, caplog):
    template = template_for(sha(e2e_repo, "blue-faults"))
    drop_database(template)
    caplog.set_level(logging.INFO, logger="migrator")
    first = compat(options(e2e_repo, "green", blue="blue-faults"))
    assert first.result == "pass", first.reason
    assert f"building blue's schema into template {template}" in caplog.text
    assert databases(template) == {template}
    leftovers.check()

    run = run_cli(e2e_repo, "--blue", "blue-faults", "--green", "green", *URL_ARGS, tmpdir=leftovers.tmpdir)
    assert run.code == 0, run.err[-3000:]
    assert f"cloning blue's schema from template {template}" in run.err
    assert "building" not in run.err
    fingerprint = re.search(r"schema fingerprint: (\w+)", run.out).group(1)
    assert fingerprint == first.fingerprint
    leftovers.check(run.pid)


def _dropping_after(lookup, name: str):
    """`lookup` of blue's source, then, when it names the template `name`, that real template dropped, as another
    run on the server (or a --prune-templates) may do right between compat's lookup and its clone."""
    def wrapped(*args, **kwargs):
        found = lookup(*args, **kwargs)
        if (found[0] if isinstance(found, tuple) else found) == name:
            drop_database(name)
        return found
    return wrapped


def test_template_dropped_before_its_early_clone_is_built_afresh(e2e_repo, leftovers, monkeypatch, caplog):
    """The cached template _early_clones found is gone when it is cloned: blue's schema is built afresh (pass), not
    ProvisionError "template database ... does not exist" (exit 2)."""
    from migrator.compat import template

    name = template_for(sha(e2e_repo, "blue"))
    assert compat(options(e2e_repo, "green")).result == "pass"  # blue's template is cached now
    assert databases(name) == {name}
    monkeypatch.setattr(template, "cached_template", _dropping_after(template.cached_template, name))
    caplog.set_level(logging.INFO, logger="migrator")
    result = compat(options(e2e_repo, "green"))
    assert result.result == "pass", result.reason
    assert f"cloning blue's schema from template {name}" in caplog.text  # found, then dropped
    assert f"blue's template {name} was dropped before it was cloned" in caplog.text
    assert databases(name) == set()
    leftovers.check()


def test_template_dropped_after_blue_source_is_built_afresh(e2e_repo, leftovers, monkeypatch, caplog):
    """The same after blue_source's lookup (the early one found nothing: the template came later), and after
    blue_source built and published it itself."""
    from migrator.compat import template

    name = template_for(sha(e2e_repo, "blue"))
    monkeypatch.setattr(template, "cached_template", lambda *args, **kwargs: None)
    monkeypatch.setattr(template, "blue_source", _dropping_after(template.blue_source, name))
    caplog.set_level(logging.INFO, logger="migrator")
    result = compat(options(e2e_repo, "green"))
    assert result.result == "pass", result.reason
    assert f"blue's template {name} was dropped before it was cloned" in caplog.text
    assert databases(name) == set()
    leftovers.check()


def test_failed_blue_build_never_publishes_a_template(e2e_repo, leftovers):
    template = template_for(sha(e2e_repo, "blue-fails"))
    drop_database(template)
    # blue's own history does not build: no verdict on green is possible (exit 2), and no evidence
    evidence = leftovers.tmpdir / "stale-evidence.json"
    evidence.write_text('{"result": "pass"}')
    with pytest.raises(CompatError, match="cannot build blue's schema: blue revision 0003 failed to apply") as info:
        compat(options(e2e_repo, "blue-fails", blue="blue-fails", evidence=evidence))
    assert info.value.exit_code == 2 and "no_such_table" in str(info.value)
    assert not evidence.exists()  # a stale pass never outlives a run without a verdict
    assert databases(template) == set()
    leftovers.check()  # no migrator_build_ staging database either
    run = run_cli(e2e_repo, "--blue", "blue-fails", "--green", "blue-fails", *URL_ARGS, tmpdir=leftovers.tmpdir)
    assert_clean_error(run, 2, "blue revision 0003 failed to apply")
    assert "building blue's schema into template" in run.err  # not cloning a half-built one
    assert databases(template) == set()
    leftovers.check(run.pid)


# --- servers migrator starts itself -------------------------------------------------------------------


@pytest.mark.skipif(bool(EmbeddedProvider().unavailable()), reason=str(EmbeddedProvider().unavailable()))
def test_migrator_demo_on_the_embedded_provider(e2e_repo, leftovers):
    """The README's main job: `migrator demo` classifies, passes the good release (--full), catches the
    broken one, on a PostgreSQL of its own that is gone afterwards."""
    proc = subprocess.run([*migrator_command(), "demo", "--provider", "embedded"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=cli_env(leftovers.tmpdir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback (most recent call last)" not in proc.stderr
    good, broken = proc.stdout.split("== compat: the broken release")
    assert "compat PASS: blue blue" in good and "from the embedded provider" in good
    rows = re.findall(r"^  (blue|green)\s+(expanded|contracted)\s+(\w+)", good, re.M)
    assert rows == [("blue", "expanded", "pass"), ("green", "expanded", "pass"), ("green", "contracted", "pass")]
    assert "compat FAIL: blue blue" in broken
    assert re.search(rf"FAILED \[blue/expanded\] 6 tests: .*{BROKEN_ERROR}\n(      .*\n)*      {re.escape(FAILING_TEST)}\n",
                     broken), broken
    assert "demo: the good release passed and the broken one was caught by compat_tests/" in broken
    # the fingerprint depends on the schema only: not on the server (version), the commit or the database name
    fingerprints = re.findall(r"schema fingerprint: (\w+)", proc.stdout)
    assert fingerprints[0] == compat(options(e2e_repo, "green")).fingerprint != fingerprints[1]
    leftovers.check()


@pytest.mark.skipif(bool(LocalProvider().unavailable()), reason=str(LocalProvider().unavailable()))
def test_local_provider_catches_the_broken_release(e2e_repo, leftovers):
    result = compat(options(e2e_repo, "green-broken", provider="local", database_url=None))
    assert (result.result, result.exit_code, result.provider) == ("fail", 1, "local")
    failures = {f["test"]: f["error"] for s in result.cells for f in s.failures}
    assert BROKEN_ERROR in failures[FAILING_TEST]
    assert FAILING_TEST in render_compat(result, "text")
    leftovers.check()


def test_prune_templates_drops_the_cached_blue_schemas(e2e_repo, leftovers):
    """--prune-templates --blue REF drops that commit's template only (others' runs share the server); a template
    another run dropped first is no error."""
    template = template_for(sha(e2e_repo, "blue-faults"))
    assert compat(options(e2e_repo, "green-faults", blue="blue-faults")).result == "pass"
    assert databases(template) == {template}
    command = [*migrator_command(), "compat", "--prune-templates", "--blue", "blue-faults", "--scratch-url", URL]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=e2e_repo)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"dropped {template}\n"
    assert databases(template) == set()
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=e2e_repo)
    assert (again.returncode, again.stdout) == (0, "no cached templates\n"), again.stderr
    leftovers.check()
    missing = subprocess.run([*migrator_command(), "compat", "--prune-templates"], capture_output=True, text=True,
                             timeout=60, env={k: v for k, v in __import__("os").environ.items()
                                              if k not in ("MIGRATOR_DATABASE_URL", "MIGRATOR_SCRATCH_URL")})
    assert missing.returncode == 2 and "needs --scratch-url" in missing.stderr


def test_text_report_groups_tests_failing_with_one_error():
    """59 green tests failing on one integer-vs-uuid column are one error with the tests named under it (8, then a
    count), not 20 copies of the error."""
    from migrator.compat.render import render_compat
    from migrator.compat.result import CompatResult, SuiteRun

    same = "ProgrammingError: column \"id\" is of type integer but expression is of type uuid"
    failures = [{"test": f"t.py::test_{i}", "error": same} for i in range(59)]
    failures.append({"test": "t.py::test_other", "error": "AssertionError: 2 != 3"})
    result = CompatResult(result="fail", blue_ref="v2", blue_sha="a" * 40, green_sha="b" * 40, cells=[
        SuiteRun("green", "expanded", "fail", errors=59, failed=1, total=60, failures=failures)])
    text = render_compat(result, "text")
    block = text[text.index("  FAILED"):text.index("\n", text.index("test_other"))].splitlines()
    assert block == ([f"  FAILED [green/expanded] 59 tests: {same}"] + [f"      t.py::test_{i}" for i in range(8)]
                     + ["      ... and 51 more", "  FAILED [green/expanded] t.py::test_other: AssertionError: 2 != 3"])
