"""Spare children (RunnerPool.warm): started before their project and environment are known, they import alembic
ahead, then take the environment and folder of the runner that adopts them. No server needed."""

from __future__ import annotations

import sys
import time

from migrator.runner import RunnerPool
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


def test_unused_spares_stop_with_the_pool(tmp_path):
    with RunnerPool(python=sys.executable) as pool:
        pool.warm(2, cwd=tmp_path)
        procs = [spare.proc for spare in pool.spares]
    assert all(_gone(proc) for proc in procs)


def test_a_runner_without_spares_behaves_the_same(tmp_path):
    project = _project(tmp_path)
    with RunnerPool(python=sys.executable) as pool:
        runner = pool.get(project, env={"APP_SETTING": "plain"})
        assert _sees(runner)[:4] == ["plain", str(project), "False", "False"]
