"""Benchmark: one tiny release (expand + migrate) across a fleet of small databases, at several concurrencies.

    python bench/fleet.py [--databases 200] [--concurrency 1,8,32] [--server postgresql://postgres@127.0.0.1:5432]

For each concurrency, a fresh fleet: --databases uniquely named databases at blue's schema (copies of a template,
20 rows each) on the local server, a tiny alembic project (tests/_fleet.py: expand adds a column, migrate fills
it), `migrator fleet plan` (timed, not counted), then `migrator fleet expand --evidence` and `migrator fleet migrate`
through the CLI, each timed. The databases this run made are dropped at the end (only those).

Columns: plan, expand and migrate wall seconds; expand+migrate; per database (expand+migrate wall / databases);
databases per minute through both phases; the peak of server connections the run's databases held (sampled every
0.2 s), which bounds the concurrency a server's max_connections allows. Every database goes through waves
(canary, 10%, 50%, 100%), so a wave's tail waits for its slowest database.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import _fleet as kit  # noqa: E402  (the kit the tests use: project, fleet, evidence)


def peak_connections(prefix: str, stop: threading.Event, out: list[int]) -> None:
    import psycopg

    try:
        with psycopg.connect(kit.ADMIN, autocommit=True, connect_timeout=10) as conn:
            while not stop.is_set():
                count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname LIKE %s",
                                     (prefix + "%",)).fetchone()[0]
                out.append(count)
                stop.wait(0.2)
    except psycopg.Error:
        pass


class Failed(Exception):
    pass


def timed(*args: str) -> float:
    started = time.monotonic()
    proc = kit.migrator(*args, timeout=7200)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise Failed(f"`migrator {' '.join(args[:2])}` exited {proc.returncode}: {last[:300]}")
    return seconds


def one(databases: int, concurrency: int, workdir: Path, repo: Path) -> dict:
    with kit.Fleet(databases) as fleet:
        ops = workdir / f"ops-{concurrency}"
        config = kit.write_config(ops, fleet.urls, concurrency=concurrency)
        evidence = kit.write_evidence(fleet, repo, ops / "compat.json")
        common = ("--project-dir", str(repo), "--config", str(config))
        plan = timed("fleet", "plan", "--blue", "blue", *common)
        samples: list[int] = []
        stop = threading.Event()
        sampler = threading.Thread(target=peak_connections, args=(f"{kit.PREFIX}{fleet.run}", stop, samples),
                                   daemon=True)
        sampler.start()
        try:
            expand = timed("fleet", "expand", "--evidence", str(evidence), *common)
            migrate = timed("fleet", "migrate", *common)
        finally:
            stop.set()
            sampler.join(5)
    both = expand + migrate
    return {"databases": databases, "concurrency": concurrency, "plan": plan, "expand": expand, "migrate": migrate,
            "both": both, "per_db_ms": both / databases * 1000, "per_min": databases / both * 60,
            "peak_connections": max(samples) if samples else 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", type=int, default=200)
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated, e.g. 1,8,32")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.databases < 2 or not levels or min(levels) < 1:
        parser.error("--databases >= 2 and concurrencies >= 1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        workdir = Path(tmp)
        repo = kit.make_repo(workdir)
        for level in levels:
            sys.stderr.write(f"bench: {args.databases} databases at concurrency {level}...\n")
            try:
                rows.append(one(args.databases, level, workdir, repo))
            except Failed as exc:  # e.g. the server's max_connections: reported in the table, the others still run
                rows.append({"concurrency": level, "error": str(exc)})
            sys.stderr.write(f"bench: {rows[-1]}\n")
    print(f"fleet bench: expand + migrate of a tiny release (1 revision each) on {args.databases} databases; "
          f"{os.cpu_count()} CPU(s); PostgreSQL at {kit.HOST}")
    print(f"{'concurrency':>11}  {'plan s':>7}  {'expand s':>8}  {'migrate s':>9}  {'exp+mig s':>9}  "
          f"{'ms/db':>6}  {'dbs/min':>7}  {'peak conns':>10}")
    for r in rows:
        if "error" in r:
            print(f"{r['concurrency']:>11}  failed: {r['error']}")
            continue
        print(f"{r['concurrency']:>11}  {r['plan']:>7.1f}  {r['expand']:>8.1f}  {r['migrate']:>9.1f}  "
              f"{r['both']:>9.1f}  {r['per_db_ms']:>6.0f}  {r['per_min']:>7.0f}  {r['peak_connections']:>10}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
