"""How runner children start ahead of their project. No server needed.

- The fork server (migrator.runner.forks, on Linux): one process per interpreter and spawn settings imports alembic
  once and forks a child per runner, which then takes the runner's environment and folder.
- Spare children (RunnerPool.warm where there is no fork server, e.g. MIGRATOR_FORK_SERVER=0): started before their
  project and environment are known, they import alembic ahead, then take the environment and folder of the runner
  that adopts them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from migrator.runner import CHILD, ProjectError, ProjectRunner, RunnerPool, forks
from tests._compat import make_repo, revision

# the revision reports, through its docstring (history's `doc`), what project code sees when it is imported
SEES = ('import os, sys\n'
        '__doc__ = "|".join([os.environ.get("APP_SETTING", "-"), os.getcwd(),\n'
        '                    str("MIGRATOR_RUNNER_PARENT" in os.environ), str("MIGRATOR_RUNNER_PRELOAD" in os.environ),\n'
        '                    str(__import__("importlib").util.find_spec("pygments") is not None),\n'
        '                    os.path.abspath(sys.path[0])])\n')


def _project(tmp_path):
    _, project = make_repo(tmp_path / "repo", blue={"0001": revision("0001", None, "SELECT 1", header=SEES)})
    return project


def _sees(runner) -> list[str]:
    return runner.history().revisions["0001"].doc.split("|")


def _gone(proc, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return proc.poll() is not None


@pytest.fixture
def no_fork_server(monkeypatch):
    monkeypatch.setenv(forks.SWITCH, "0")


@pytest.mark.usefixtures("no_fork_server")
def test_a_spare_takes_the_environment_and_folder_of_its_runner(tmp_path):
    project = _project(tmp_path)
    with RunnerPool(python=sys.executable) as pool:
        pool.warm(1, cwd=tmp_path, url_form="postgresql+psycopg")
        spare = pool.spares[0].proc
        runner = pool.get(project, env={"APP_SETTING": "green-copy"}).prefetch("history")
        assert runner.proc is spare and not pool.spares  # adopted, not a new process
        setting, cwd, parent_left, hint_left, pygments, first = _sees(runner)
    assert setting == "green-copy"
    assert cwd == str(project) and first == str(project)  # the project's folder first on sys.path
    assert parent_left == "False" and hint_left == "False"  # the runner's own variables never reach project code
    assert pygments == "True"  # kept from mako while alembic loads, still importable for the project


@pytest.mark.usefixtures("no_fork_server")
def test_a_spare_started_without_an_interpreter_setting_is_not_used(tmp_path):
    """PYTHON* variables act when an interpreter starts: a runner that needs one gets a fresh child."""
    project = _project(tmp_path)
    with RunnerPool(python=sys.executable) as pool:
        pool.warm(1, cwd=tmp_path)
        spare = pool.spares[0].proc
        runner = pool.get(project, env={"APP_SETTING": "x", "PYTHONHASHSEED": "7"}).start()
        assert runner.proc is not spare
        assert _sees(runner)[0] == "x"
        assert _gone(spare)  # the unused spare is stopped, not left behind


@pytest.mark.usefixtures("no_fork_server")
def test_unused_spares_stop_with_the_pool(tmp_path):
    with RunnerPool(python=sys.executable) as pool:
        pool.warm(2, cwd=tmp_path)
        procs = [spare.proc for spare in pool.spares]
    assert all(_gone(proc) for proc in procs)


@pytest.mark.usefixtures("no_fork_server")
def test_a_runner_without_spares_behaves_the_same(tmp_path):
    project = _project(tmp_path)
    with RunnerPool(python=sys.executable) as pool:
        runner = pool.get(project, env={"APP_SETTING": "plain"})
        assert _sees(runner)[:4] == ["plain", str(project), "False", "False"]


# --- the fork server -----------------------------------------------------------------------------------------

needs_forks = pytest.mark.skipif(not forks.enabled(), reason="no fork server on this platform")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is gone too
        return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _gone_pid(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _alive(pid)


@needs_forks
def test_forked_children_see_what_a_spawned_child_sees(tmp_path, monkeypatch):
    project = _project(tmp_path)
    with RunnerPool(python=sys.executable) as pool:
        pool.warm(1, cwd=tmp_path, url_form="postgresql+psycopg")
        assert not pool.spares  # the fork server stands in for them
        first = pool.get(project, env={"APP_SETTING": "blue-copy"}).start()
        second = pool.get(project, env={"APP_SETTING": "green-copy"}).start()
        assert isinstance(first.proc, forks.ForkedProcess) and isinstance(second.proc, forks.ForkedProcess)
        assert first.proc.pid != second.proc.pid
        assert _sees(first)[0] == "blue-copy" and _sees(second)[0] == "green-copy"
        server = first.proc.server.proc
        with open(f"/proc/{server.pid}/environ", "rb") as environ:  # no app's settings kept in the server
            assert b"-copy" not in environ.read()
        with open(f"/proc/{server.pid}/cmdline", "rb") as cmdline:
            assert cmdline.read().split(b"\0")[1:3] == [str(CHILD).encode(), b"--zygote"]
        forked = _sees(second)
    monkeypatch.setenv(forks.SWITCH, "0")
    with ProjectRunner(project, env={"APP_SETTING": "green-copy"}) as spawned:
        assert isinstance(spawned.proc, subprocess.Popen)
        assert _sees(spawned) == forked  # environment, folder, private variables, sys.path[0]: the same


@needs_forks
def test_a_forked_child_reports_how_it_ended(tmp_path):
    _, project = make_repo(tmp_path / "repo", blue={"0001": revision("0001", None, "SELECT 1",
                                                                     header="import os\nos._exit(3)\n")})
    with ProjectRunner(project) as runner:
        assert isinstance(runner.proc, forks.ForkedProcess)
        with pytest.raises(ProjectError, match=r"exited \(status 3\) during history"):
            runner.history()
    with ProjectRunner(_project(tmp_path / "other")) as runner:
        proc = runner.proc
        os.killpg(proc.pid, signal.SIGKILL)  # a group of its own, as a spawned child has
        assert proc.wait(timeout=5) == -signal.SIGKILL


@needs_forks
def test_other_interpreter_settings_get_a_server_of_their_own(tmp_path):
    project = _project(tmp_path)
    with ProjectRunner(project, env={"APP_SETTING": "x"}) as plain, \
            ProjectRunner(project, env={"APP_SETTING": "x", "PYTHONHASHSEED": "7"}) as seeded:
        assert plain.proc.server is not seeded.proc.server
        assert _sees(seeded)[0] == "x"
    with ProjectRunner(project, env={"PYTHONPATH": "relative/dir"}) as relative:
        assert isinstance(relative.proc, subprocess.Popen)  # resolved against the folder it starts in: spawned


@needs_forks
def test_the_server_and_its_children_end_when_migrator_is_killed(tmp_path):
    project = _project(tmp_path)
    code = ("import sys, time; from migrator.runner import ProjectRunner\n"
            "r = ProjectRunner(sys.argv[1]).start()\n"
            "print(r.proc.server.proc.pid, r.proc.pid, flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(project)], stdout=subprocess.PIPE, text=True)
    try:
        server_pid, child_pid = map(int, proc.stdout.readline().split())
        assert _alive(server_pid) and _alive(child_pid)
    finally:
        proc.kill()
        proc.wait()
    assert _gone_pid(server_pid) and _gone_pid(child_pid)
