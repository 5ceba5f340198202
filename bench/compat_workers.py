"""Benchmark: `migrator compat --workers N` against plain pytest-xdist on a hand-made database per worker.

    python bench/compat_workers.py [--tests 300] [--workers 1,2,4] [--runs 1] [--scratch-url URL]

A synthetic app (a git repository made here: blue, and green adding a nullable column) whose suite has
--tests tests, each doing real database work (inserts, an aggregate, an update) on the database its worker got.
For each N, in one run:

  migrator total   wall time of `migrator compat --blue blue --green green --workers N` (two cells, blue and green
                   on the expanded schema, side by side: 2 x N pytest workers)
  migrator cell    the longest cell's pytest duration from its JSON report (the suite under xdist, as migrator ran it)
  pytest-xdist     wall time of `pytest -n N` (one suite) on N databases made by hand beforehand at the same schema
  ratio            migrator cell / pytest-xdist (what running under migrator costs one suite)

The machine has few cores: with two cells side by side, N = 2 already uses 4 pytest workers. Medians of --runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
           "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

ENV_PY = '''import os
from alembic import context
from sqlalchemy import create_engine, pool
url = os.environ["DATABASE_URL"]
if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with create_engine(url, poolclass=pool.NullPool).connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
'''
INI = "[alembic]\nscript_location = migrations\n"
REV = '''from alembic import op
revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None
phase = "expand"


def upgrade():
    op.execute({sql!r})
'''
CONFTEST = '''import os
import psycopg
import pytest

# as an app reads its settings: at import; a hand-made run picks its worker's database itself
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
URL = os.environ.get("BENCH_DB_" + _worker) or os.environ["DATABASE_URL"]


@pytest.fixture
def conn():
    with psycopg.connect(URL.replace("+psycopg", ""), autocommit=True) as connection:
        yield connection
'''
SUITE = '''import pytest


@pytest.mark.parametrize("n", range({tests}))
def test_orders_of_a_customer(conn, n):
    conn.execute("INSERT INTO orders (customer, amount) SELECT %s, g FROM generate_series(1, 20) g", (n,))
    total = conn.execute("SELECT sum(amount) FROM orders WHERE customer = %s", (n,)).fetchone()[0]
    conn.execute("UPDATE orders SET amount = amount + 1 WHERE customer = %s", (n,))
    assert total == 210
'''


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def make_app(root: Path, tests: int) -> Path:
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "script.py.mako").write_text("")
    (root / "alembic.ini").write_text(INI)
    (root / "compat_tests").mkdir()
    (root / "compat_tests" / "conftest.py").write_text(CONFTEST)
    (root / "compat_tests" / "test_orders.py").write_text(SUITE.format(tests=tests))
    (root / "migrations" / "versions" / "0001.py").write_text(REV.format(
        rev="0001", down=None, sql="CREATE TABLE orders (id bigserial PRIMARY KEY, customer int NOT NULL, amount int)"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "blue")
    git(root, "tag", "blue")
    (root / "migrations" / "versions" / "0002.py").write_text(REV.format(
        rev="0002", down="0001", sql="ALTER TABLE orders ADD COLUMN note text"))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "green")
    git(root, "tag", "green")
    return root


def migrator_command() -> list[str]:
    script = Path(sys.executable).with_name("migrator")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "migrator.cli"]


def run_migrator(repo: Path, workers: int, url: str) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIGRATOR_", "PYTEST_"))}
    started = time.perf_counter()
    proc = subprocess.run([*migrator_command(), "compat", "--blue", "blue", "--green", "green", "--workers",
                           str(workers), "--scratch-url", url, "--format", "json"], cwd=repo, capture_output=True,
                          text=True, env=env, timeout=1800)
    total = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"bench: migrator compat --workers {workers} exited {proc.returncode}")
    report = json.loads(proc.stdout)
    return total, max(c["duration"] for c in report["cells"])


def run_xdist(repo: Path, workers: int, url: str) -> float:
    """pytest -n N on N databases made beforehand (the schema by alembic, as a developer would)."""
    import psycopg

    from migrator.db.urls import DatabaseURL

    admin = DatabaseURL.parse(url)
    names = [f"bench_xdist_{os.getpid()}_{i}" for i in range(workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIGRATOR_", "PYTEST_"))}
    with psycopg.connect(admin.libpq(), autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        for i, name in enumerate(names):
            db = admin.with_database(name).sqlalchemy()
            env[f"BENCH_DB_gw{i}"] = db
            subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=repo, check=True,
                           capture_output=True, env={**env, "DATABASE_URL": db})
        env["DATABASE_URL"] = env["BENCH_DB_gw0"]
        args = ["-n", str(workers)] if workers > 1 else []
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "compat_tests", "-q", "-p", "no:cacheprovider", *args],
                              cwd=repo, capture_output=True, text=True, env=env, timeout=1800)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:])
            raise SystemExit(f"bench: pytest -n {workers} exited {proc.returncode}")
        return wall
    finally:
        with psycopg.connect(admin.libpq(), autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--scratch-url", default=os.environ.get("MIGRATOR_SCRATCH_URL") or DEFAULT_URL)
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="migrator-bench-workers-"))
    rows = []
    try:
        repo = make_app(tmp / "app", args.tests)
        run_migrator(repo, 1, args.scratch_url)  # warm-up: blue's template, interpreter caches
        for workers in counts:
            samples = [(run_migrator(repo, workers, args.scratch_url), run_xdist(repo, workers, args.scratch_url))
                       for _ in range(args.runs)]
            total = statistics.median(s[0][0] for s in samples)
            cell = statistics.median(s[0][1] for s in samples)
            xdist = statistics.median(s[1] for s in samples)
            rows.append((workers, total, cell, xdist))
            print(f"  workers {workers}: migrator {total:.2f}s (cell {cell:.2f}s), pytest-xdist {xdist:.2f}s",
                  file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.tests} tests with database work; {os.cpu_count()} CPUs; median of {args.runs} run(s)")
    print(f"{'workers':>7} {'migrator total':>15} {'migrator cell':>14} {'pytest-xdist':>13} {'cell/xdist':>11}")
    for workers, total, cell, xdist in rows:
        print(f"{workers:>7} {total:>14.2f}s {cell:>13.2f}s {xdist:>12.2f}s {cell / xdist:>10.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
