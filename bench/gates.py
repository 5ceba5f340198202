"""Benchmark: what one `migrator serve` process answers, and what one `migrator gate` call costs.

    python bench/gates.py [--requests 20] [--clients 1,4] [--url postgresql://postgres@127.0.0.1:5432/postgres]

On the demo app (its release planned, expanded and migrated in a throwaway database made here and dropped
afterwards; the command router hook of tests/integration/test_release_commands.py), `migrator serve` runs as a process on a
free port. For each gate (switch with the release migrated; contract once it is switched, with --soak 0) and
each number of concurrent clients, --requests authenticated GETs of /v1/releases/current/gates/<gate> per
client: the median and p95 latency, and requests per second. Then the wall time of `migrator gate <gate>`
(a process start included: the Argo Job form, or a CI step). Every evaluation opens its own connection, asks
the router hook, and for contract runs the live-data preflight, which renders green's contract revisions in
the app's interpreter: that child process is most of a contract evaluation.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOKEN = "bench-token-0123456789abcdef"


def measure(base: str, gate: str, clients: int, requests: int) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client():
        for _ in range(requests):
            req = urllib.request.Request(f"{base}/v1/releases/current/gates/{gate}",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
            started = time.monotonic()
            try:
                with urllib.request.urlopen(req, timeout=120) as response:
                    body = json.loads(response.read())
                ok = body.get("passed") is True
            except Exception as exc:  # noqa: BLE001 - counted, shown
                ok, body = False, {"error": str(exc)}
            with lock:
                latencies.append(time.monotonic() - started)
                if not ok:
                    failures.append(json.dumps(body)[:200])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {"gate": gate, "clients": clients, "requests": len(latencies),
            "median_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000,
            "per_second": len(latencies) / wall, "not_passed": len(failures),
            "example_failure": failures[0] if failures else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per client")
    parser.add_argument("--clients", default="1,4", help="comma-separated numbers of concurrent clients")
    args = parser.parse_args(argv)
    clients = [int(c) for c in args.clients.split(",") if c.strip()]

    from migrator.demo import build_demo_repo
    from migrator.release import commands
    from tests._cli import migrator_command
    from tests.integration.test_release_commands import ctx_for, evidence_for, expand_for, fresh_database, to_blue, \
        write_release_config

    work = Path(tempfile.mkdtemp(prefix="migrator-bench-gates-"))
    rows, cli = [], {}
    try:
        repo = build_demo_repo(work / "app")
        config = write_release_config(work / "ops")
        with fresh_database(password=True) as (url, _):
            to_blue(repo, url)
            commands.plan(ctx_for(repo, config, url, blue="blue"))
            expand_for(repo, config, url)
            commands.migrate(ctx_for(repo, config, url))
            evidence = evidence_for(url, repo, work / "ops" / "evidence.json")
            env = {**os.environ, "MIGRATOR_DATABASE_URL": url, "MIGRATOR_SERVE_TOKEN": TOKEN}
            env.pop("MIGRATOR_DEBUG", None)
            log = work / "serve.log"
            with open(log, "wb") as err:
                proc = subprocess.Popen([*migrator_command(), "serve", "--port", "0", "--config", str(config),
                                         "--evidence", str(evidence), "--soak", "0"], cwd=repo, env=env,
                                        stdout=subprocess.DEVNULL, stderr=err)
            try:
                deadline = time.monotonic() + 30
                while not (found := re.search(r"on (http://127\.0\.0\.1:\d+) ", log.read_text())):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        print(f"serve did not start: {log.read_text()}", file=sys.stderr)
                        return 2
                    time.sleep(0.05)
                base = found.group(1)
                for gate in ("switch", "contract"):
                    if gate == "contract":
                        commands.switch(ctx_for(repo, config, url, evidence=evidence))
                    for n in clients:
                        rows.append(measure(base, gate, n, args.requests))
                    started = time.monotonic()
                    extra = ["--evidence", str(evidence)] if gate == "switch" else ["--soak", "0"]
                    done = subprocess.run([*migrator_command(), "gate", gate, "--config", str(config), *extra],
                                          cwd=repo, env=env, capture_output=True, text=True)
                    cli[gate] = (time.monotonic() - started, done.returncode)
            finally:
                proc.terminate()
                proc.wait(15)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("migrator serve, one process (GET /v1/releases/current/gates/<gate>, bearer token):")
    print(f"  {'gate':<9} {'clients':>7} {'requests':>8} {'median':>9} {'p95':>9} {'req/s':>7}  not passed")
    for r in rows:
        print(f"  {r['gate']:<9} {r['clients']:>7} {r['requests']:>8} {r['median_ms']:>7.0f}ms {r['p95_ms']:>7.0f}ms "
              f"{r['per_second']:>7.1f}  {r['not_passed']}" + (f"  e.g. {r['example_failure']}"
                                                               if r["example_failure"] else ""))
    print("migrator gate <gate> (a process per call: the Job form):")
    for gate, (seconds, code) in cli.items():
        print(f"  {gate:<9} {seconds:.2f}s, exit {code}")
    bad = any(r["not_passed"] for r in rows) or any(code != 0 for _, code in cli.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
