"""`migrator compat --workers N`: each suite under pytest-xdist, every worker on its own copy of the cell's
database (the plugin hands each worker its variables before any conftest imports the app)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests._cli import migrator_command, outer_env
from tests import _server
from tests._compat import git, make_repo, revision

pytestmark = [pytest.mark.usefixtures("pg_server"), pytest.mark.slow]
SCRATCH = _server.ADMIN_URL  # the test server (tests/conftest.py)

SUITE = '''
import json, os
import psycopg
import pytest

URL = os.environ["DATABASE_URL"].replace("+psycopg", "")  # read at import, as app settings are


@pytest.mark.parametrize("n", range(12))
def test_writes_on_its_own_database(n):
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("INSERT INTO users (id, name) VALUES (%s, %s)", (n, "u%d" % n))
        db = conn.execute("SELECT current_database()").fetchone()[0]
    cell = os.environ["MIGRATOR_CELL"].replace("/", "-")
    with open(os.path.join(os.environ["WORKERS_LOG"], "%s-%s-%d" % (cell, os.environ.get("PYTEST_XDIST_WORKER"), n)),
              "w") as out:
        json.dump({"db": db, "worker": os.environ.get("PYTEST_XDIST_WORKER")}, out)
'''


def _repo(tmp_path: Path) -> Path:
    green = {"0003": revision("0003", "0002", "ALTER TABLE users ADD COLUMN email text", phase="expand")}
    root, project = make_repo(tmp_path / "repo", green=green)
    for tag, base in (("blue-w", "v1"), ("green-w", "v2")):
        git(root, "checkout", "-q", "--detach", base)
        (project / "compat_tests").mkdir(exist_ok=True)
        (project / "compat_tests" / "test_workers.py").write_text(SUITE)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "suite")
        git(root, "tag", tag)
    git(root, "checkout", "-q", "main")
    return root


def test_each_worker_gets_its_own_database(tmp_path):
    root = _repo(tmp_path)
    log = tmp_path / "log"
    log.mkdir()
    env = outer_env("MIGRATOR_", "PYTEST_")
    run = subprocess.run([*migrator_command(), "compat", "--blue", "blue-w", "--green", "green-w", "--workers", "2",
                          "--scratch-url", SCRATCH, "--format", "json", "--env", f"WORKERS_LOG={log}"],
                         cwd=root, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert [(c["app"], c["passed"]) for c in report["cells"]] == [("blue", 12), ("green", 12)]
    seen = [json.loads(p.read_text()) for p in log.iterdir()]
    assert len(seen) == 24 and {s["worker"] for s in seen} == {"gw0", "gw1"}
    by_worker = {}
    for s in seen:
        by_worker.setdefault(s["db"], set()).add(s["worker"])
    # 2 cells x 2 workers: four databases, each written by one worker only (the same ids never collide)
    assert len(by_worker) == 4 and all(len(workers) == 1 for workers in by_worker.values()), by_worker


@pytest.mark.parametrize("value", ["0", "many"])
def test_a_bad_worker_count_is_a_usage_error(tmp_path, value):
    root = _repo(tmp_path)
    env = outer_env("MIGRATOR_", "PYTEST_")
    run = subprocess.run([*migrator_command(), "compat", "--blue", "blue-w", "--green", "green-w", "--workers", value,
                          "--scratch-url", SCRATCH], cwd=root, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 2, run.stderr[-2000:]
    assert run.stderr.strip().splitlines()[-1] == f"migrator: --workers {value!r}: expected a number >= 1 or 'auto'"
