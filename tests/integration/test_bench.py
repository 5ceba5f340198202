"""bench/classify.py stays runnable, and its generated migration stays fully understood (no U000)."""

from __future__ import annotations

import importlib.util

import pytest
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "classify.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_classify", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_migration_is_realistic_and_classified():
    from migrator.api import classify

    text = _bench_module().generate(400)
    report = classify(text)
    statements = report.migrations[0].statements
    assert len(statements) == 400
    assert not [s.sql for s in statements if "U000" in s.rules]
    assert {s.phase.label for s in statements} == {"none", "expand", "migrate", "contract"}


def test_bench_runs(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH), "--statements", "50", "--runs", "1"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr  # 1 = a target missed (timing on a busy machine)
    assert "sqlglot.parse" in proc.stdout and "migrator --help" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_memory_bench_runs(tmp_path):
    script = BENCH.with_name("classify_memory.py")
    proc = subprocess.run([sys.executable, str(script), "--sizes", "0.05,0.1", "--format", "text"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith(("statements ", "insert "))]
    assert [r[0] for r in rows] == ["statements", "statements", "insert", "insert"]
    assert all(r[3] in ("0", "1") for r in rows)  # migrator's exit code: findings, never an error
    assert "PASS  peak RSS" in proc.stdout


@pytest.mark.usefixtures("pg_server")
@pytest.mark.slow
def test_compat_workers_bench_prints_its_table():
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[2] / "bench" / "compat_workers.py"
    proc = subprocess.run([sys.executable, str(bench), "--tests", "6", "--workers", "1,2"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[1].split() == ["workers", "migrator", "total", "migrator", "cell", "pytest-xdist", "cell/xdist"]
    assert [line.split()[0] for line in lines[2:]] == ["1", "2"]


@pytest.mark.usefixtures("pg_server")
def test_fleet_bench_prints_its_table():
    """bench/fleet.py with a handful of databases: it runs, prints one row per concurrency, drops its databases."""
    import subprocess

    bench = Path(__file__).resolve().parents[2] / "bench" / "fleet.py"
    proc = subprocess.run([sys.executable, str(bench), "--databases", "4", "--concurrency", "1,4"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert "expand + migrate" in lines[0] and "concurrency" in lines[1]
    assert [line.split()[0] for line in lines[2:]] == ["1", "4"]

@pytest.mark.usefixtures("pg_server")
def test_backfill_bench_prints_its_table():
    """bench/backfill.py on a tiny table: the three methods, sane columns and a goal line (not the goal itself:
    timings on a few thousand rows say nothing)."""
    bench = Path(__file__).resolve().parents[2] / "bench" / "backfill.py"
    proc = subprocess.run([sys.executable, str(bench), "--rows", "3000", "--clients", "2", "--repeat", "2"],
                          capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[1].split() == ["method", "rows/s", "vs", "limit", "client", "tx", "p50", "ms", "p99", "ms", "max",
                                "ms", "failed"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:5]}
    assert list(rows) == ["limit", "fixed", "default"]
    assert rows["limit"][1] == "1.00x"
    for cells in rows.values():
        rate, ratio, tx, p50, p99, top, failed = cells
        assert float(rate.replace(",", "")) > 0 and ratio.endswith("x") and int(tx) >= 0
        assert 0 <= float(p50) <= float(p99) <= float(top)
        assert failed == "0"
    assert lines[5].startswith(("PASS  default is", "FAIL  default is")) and "fixed's rows/s" in lines[5]
    assert "Traceback" not in proc.stderr
