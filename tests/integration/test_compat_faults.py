"""`migrator compat` faults end to end: each gives a clear one-line `migrator:` message, the right exit code,
and leaves nothing behind (no migrator_check_/migrator_build_ database, no worktree, no server process,
no temp dir, no pytest still running). Real git, real PostgreSQL at 127.0.0.1:5432, the CLI in a
subprocess; the fault suites and revisions are in tests/data/compat_e2e."""

from __future__ import annotations

import os
import signal

import pytest

from migrator.compat.errors import CompatError
from migrator.compat.options import CompatOptions
from migrator.compat.run import compat
from migrator.errors import MigratorError
from migrator.provision import LocalProvider, ProvisionError
from tests._compat_e2e import (  # noqa: F401  (fixtures)
    PASSWORD,
    URL,
    URL_ARGS,
    alive,
    assert_clean_error,
    e2e_repo,
    leftovers,
    postgres_servers,
    run_cli,
    start_cli,
    transient_databases,
    wait_for_file,
)

pytestmark = [pytest.mark.usefixtures("pg_server"), pytest.mark.slow,
              pytest.mark.xdist_group("compat_e2e")]  # one worker builds the e2e repository and its templates

UNREACHABLE = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/postgres"  # nothing listens on port 1


def options(repo, blue: str, green: str, **kw) -> CompatOptions:
    kw.setdefault("provider", "url")
    kw.setdefault("database_url", URL)
    return CompatOptions(blue=blue, green=green, repo=repo, **kw)


# (blue, green, extra args, exit code, words of the last stderr line, a verdict report on stdout?)
FAULTS = {
    "blue ref missing": ("v9", "green", (), 2, ["blue ref 'v9' not found"], False),
    "suite path missing": ("blue", "green", ("--suite", "no_such_suite"), 2,
                           ["test suite 'no_such_suite' not found"], False),
    # no tests and a suite that cannot be collected say nothing about the release: exit 2, not "incompatible"
    "zero tests collected": ("blue-faults", "green-faults", ("--suite", "faults/empty"), 2,
                             ["compat inconclusive", "no tests"], True),
    "collection error": ("blue-faults", "green-faults", ("--suite", "faults/collect_error"), 2,
                         ["collection error", "faults/collect_error/test_import.py",
                          "No module named 'no_such_module_for_compat_e2e'"], True),
    "revision fails to apply": ("blue", "green-fails", (), 1,
                                ["revision 0003 failed to apply", 'relation "no_such_table" does not exist'], True),
    "multiple heads": ("blue", "green-two-heads", (), 2, ["multiple alembic heads", "0003, 0003b"], False),
    "database unreachable": ("blue", "green", ("--database-url", UNREACHABLE), 2,
                             ["cannot connect", "127.0.0.1:1"], False),
    "pytest killed": ("blue-faults", "green-faults", ("--suite", "faults/killed"), 2, ["killed", "SIGKILL"], True),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_through_the_cli(e2e_repo, leftovers, fault):
    blue, green, extra, code, words, report = FAULTS[fault]
    run = run_cli(e2e_repo, "--blue", blue, "--green", green, *URL_ARGS, *extra, tmpdir=leftovers.tmpdir)
    assert_clean_error(run, code, *words)
    assert PASSWORD not in run.out + run.err
    if report:  # a verdict: stdout is the report, stderr ends with it in one line
        assert run.out.startswith("compat "), run.out
        assert "migrator:" not in run.out
    else:  # it never got to a verdict: nothing on stdout, the error is all of stderr
        assert run.out == ""
        lines = run.err.strip().splitlines()  # progress lines (interpreter, provider, template) before it
        assert len(lines) <= 5 and all(line.startswith("migrator: ") for line in lines), run.err
    leftovers.check(run.pid)


def test_faults_through_the_api(e2e_repo, leftovers):
    with pytest.raises(CompatError, match="blue ref 'v9' not found") as info:
        compat(options(e2e_repo, "v9", "green"))
    assert info.value.exit_code == 2
    with pytest.raises(CompatError, match="multiple alembic heads") as info:
        compat(options(e2e_repo, "blue", "green-two-heads"))
    assert info.value.exit_code == 2
    with pytest.raises(ProvisionError, match="cannot connect") as info:
        compat(options(e2e_repo, "blue", "green", database_url=UNREACHABLE))
    assert isinstance(info.value, MigratorError) and info.value.exit_code == 2
    assert PASSWORD not in str(info.value) and ":***@127.0.0.1:1" in str(info.value)
    leftovers.check()

    failed = compat(options(e2e_repo, "blue", "green-fails"))
    assert (failed.result, failed.exit_code) == ("refused", 1)
    assert failed.reason.startswith("green revision 0003 failed to apply")
    empty = compat(options(e2e_repo, "blue-faults", "green-faults", suite="faults/empty"))
    assert (empty.result, empty.exit_code) == ("inconclusive", 2) and "no tests" in empty.reason
    killed = compat(options(e2e_repo, "blue-faults", "green-faults", suite="faults/killed"))
    assert (killed.result, killed.exit_code) == ("inconclusive", 2) and "killed" in killed.reason
    leftovers.check()


def _interrupt(repo, leftovers, tmp_path, signum: int, provider_args) -> tuple[int, str, str, int, int]:
    """Start compat with the sleeping suite, signal its process group once pytest runs, return
    (exit code, stdout, stderr, pytest's pid, migrator's pid)."""
    pidfile = tmp_path / "pytest.pid"
    proc = start_cli(repo, "--blue", "blue-faults", "--green", "green-faults", "--suite", "faults/sleep",
                     "--env", f"COMPAT_E2E_PIDFILE={pidfile}", *provider_args, tmpdir=leftovers.tmpdir)
    try:
        wait_for_file(pidfile, proc)
        pytest_pid = int(pidfile.read_text())
        assert alive(pytest_pid)
        if provider_args == URL_ARGS:
            assert transient_databases(proc.pid)  # the check's database exists while the suite runs
        else:
            assert postgres_servers(leftovers.tmpdir)  # so is the server the run started
        os.killpg(proc.pid, signum)  # as a terminal does: the whole foreground group
        out, err = proc.communicate(timeout=30)
    except BaseException:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        raise
    return proc.returncode, out.decode(), err.decode(), pytest_pid, proc.pid


def _assert_stopped(code, out, err, pytest_pid, expected_code, words, leftovers, pid) -> None:
    assert code == expected_code, (code, err[-3000:])
    assert "running blue's suite" in err
    assert "Traceback (most recent call last)" not in err
    assert out == ""
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert last == f"migrator: {words}", err[-2000:]
    assert not alive(pytest_pid), "the suite's pytest is still running"
    leftovers.check(pid)


def test_ctrl_c_during_the_suite_cleans_up(e2e_repo, leftovers, tmp_path):
    code, out, err, pytest_pid, pid = _interrupt(e2e_repo, leftovers, tmp_path, signal.SIGINT, URL_ARGS)
    _assert_stopped(code, out, err, pytest_pid, 130, "interrupted", leftovers, pid)


def test_sigterm_during_the_suite_stops_the_local_server(e2e_repo, leftovers, tmp_path):
    if LocalProvider().unavailable():
        pytest.skip(str(LocalProvider().unavailable()))
    code, out, err, pytest_pid, pid = _interrupt(e2e_repo, leftovers, tmp_path, signal.SIGTERM,
                                                 ("--provider", "local"))
    assert "from the local provider" in err
    _assert_stopped(code, out, err, pytest_pid, 143, "terminated by SIGTERM", leftovers, pid)
