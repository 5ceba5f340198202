"""Benchmark: requests through a real nginx while migrator's nginx router switches blue -> green and back.

    python bench/switch.py [--threads 8] [--burst 10] [--steady 1.0] [--delay 0.01] [--quick] [--json]

The bed (tests/nginx_bed.py): nginx on 127.0.0.1 (daemon, worker_processes 1, upstream keepalive) in front of a
blue and a green app, each a subprocess of its own (handlers sleep --delay). For each client mode, --threads
client threads send GET / through nginx without pause while the router (migrator.routers.move_traffic: write the
upstream file, nginx -t, nginx -s reload, probe) does: a switch to green, a rollback to blue, then a burst of
--burst switches back to back (alternating colours), --steady seconds of load between the phases.

Client modes:
  close      a new connection per request (Connection: close)
  keepalive  one connection per thread, reused; a request that fails on the connection (reset, closed by a
             reloading worker) is retried once on a new connection (GET is idempotent). An HTTP error status is
             a failure, never retried.

Prints per mode: requests sent, failed requests, retried requests (keepalive: what a client without the retry
would have lost), and over all switches the time from the switch command to the first answer of the new colour
seen by any client, and to the last answer of the old colour (median / max). Goals: 0 failed requests in both
modes; the first answer of the new colour within 1 s of the command. Exit 0 when both are met, 1 when not, 2 when
nginx is not installed or the bed does not start. Loopback only; bounded (about 10 s per mode at the defaults).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.nginx_bed import HOST, NginxBed, nginx_binary  # noqa: E402

FIRST_ANSWER_GOAL = 1.0  # seconds from the switch command to the first answer of the new colour
CONNECTION_ERRORS = (OSError, http.client.HTTPException)


class Client(threading.Thread):
    """One client thread: requests until stopped; records (sent, answered, colour) of every answered request."""

    def __init__(self, port: int, mode: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.mode, self.stop = port, mode, stop
        self.sent = self.failed = self.retried = 0
        self.answers: list[tuple[float, float, str]] = []
        self.errors: list[str] = []
        self._conn: http.client.HTTPConnection | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            self.sent += 1
            started = time.monotonic()
            try:
                color = self.request()
            except CONNECTION_ERRORS as exc:
                if self.mode == "keepalive":  # one idempotent retry on a new connection
                    self.retried += 1
                    self.close()
                    try:
                        color = self.request()
                    except CONNECTION_ERRORS as again:
                        self.fail(f"retry failed: {type(again).__name__}: {again}")
                        continue
                else:
                    self.fail(f"{type(exc).__name__}: {exc}")
                    continue
            except _HTTPError as exc:
                self.fail(str(exc))
                continue
            self.answers.append((started, time.monotonic(), color))
        self.close()

    def request(self) -> str:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
        headers = {"Connection": "close"} if self.mode == "close" else {}
        try:
            self._conn.request("GET", "/", headers=headers)
            response = self._conn.getresponse()
            response.read()
        except BaseException:
            self.close()
            raise
        if self.mode == "close" or response.will_close:
            self.close()
        color = response.getheader("X-Color")
        if response.status != 200 or color not in ("blue", "green"):
            raise _HTTPError(f"HTTP {response.status} ({color or 'no colour'})")
        return color

    def fail(self, why: str) -> None:
        self.failed += 1
        if len(self.errors) < 5:
            self.errors.append(why)
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _HTTPError(Exception):
    pass


def run_mode(bed: NginxBed, hook, mode: str, threads: int, steady: float, burst: int) -> dict:
    """Load in `mode` across switch, rollback and a burst; returns the counts and per-switch timings."""
    from migrator.routers import move_traffic

    stop = threading.Event()
    clients = [Client(bed.port, mode, stop) for _ in range(threads)]
    for c in clients:
        c.start()
    switches: list[tuple[float, str, str, float]] = []  # (command at, from, to, seconds the command took)

    def move(to: str) -> None:
        frm = "blue" if to == "green" else "green"
        at = time.monotonic()
        move_traffic(hook, "bench", to, frm, "rollback" if to == "blue" else "switch", {}, 30)
        switches.append((at, frm, to, time.monotonic() - at))

    try:
        time.sleep(steady)
        move("green")
        time.sleep(steady)
        move("blue")
        time.sleep(steady)
        for i in range(burst):
            move("green" if i % 2 == 0 else "blue")
        if burst % 2:
            move("blue")  # end on blue, as we started
        time.sleep(steady)
    finally:
        stop.set()
        for c in clients:
            c.join(10)

    answers = sorted(a for c in clients for a in c.answers)
    first, last_old = [], []
    for i, (at, frm, to, _) in enumerate(switches):
        until = switches[i + 1][0] if i + 1 < len(switches) else float("inf")
        mine = [a for a in answers if a[0] >= at and a[1] < until]
        new = [done for _, done, color in mine if color == to]
        old = [done for _, done, color in mine if color == frm]
        first.append(new[0] - at if new else float("inf"))
        last_old.append(old[-1] - at if old else 0.0)
    return {"mode": mode, "threads": threads, "requests": sum(c.sent for c in clients),
            "failed": sum(c.failed for c in clients), "retried": sum(c.retried for c in clients),
            "errors": [e for c in clients for e in c.errors][:5], "switches": len(switches),
            "first_new_ms": _ms(first), "last_old_ms": _ms(last_old),
            "command_ms": _ms([s[3] for s in switches])}


def _ms(values: list[float]) -> dict:
    if not values:
        return {"median": None, "max": None}
    return {"median": round(statistics.median(values) * 1000, 1), "max": round(max(values) * 1000, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--steady", type=float, default=1.0, help="seconds of load between the phases")
    parser.add_argument("--delay", type=float, default=0.01, help="the apps' handler time (seconds)")
    parser.add_argument("--modes", default="close,keepalive")
    parser.add_argument("--quick", action="store_true", help="4 threads, 4-switch burst, 0.5 s phases (tests)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.threads, args.burst, args.steady = 4, 4, 0.5
    modes = [m for m in args.modes.split(",") if m]
    if any(m not in ("close", "keepalive") for m in modes):
        parser.error("--modes: close and/or keepalive")
    if nginx_binary() is None:
        print("bench/switch.py: nginx is not installed (apt-get install nginx-light)", file=sys.stderr)
        return 2

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-switch-") as tmp:
        try:
            bed = NginxBed(Path(tmp), processes=True, delay=args.delay).start()
        except Exception as exc:  # noqa: BLE001
            print(f"bench/switch.py: the bed did not start: {exc}", file=sys.stderr)
            return 2
        try:
            hook = bed.router(deadline="30s", confirm_timeout="10s", settle="250ms", poll_interval="20ms")
            for mode in modes:
                results.append(run_mode(bed, hook, mode, args.threads, args.steady, args.burst))
        finally:
            bed.stop()
    version = subprocess.run([nginx_binary(), "-v"], capture_output=True, text=True).stderr.strip()
    failed_goal = any(r["failed"] for r in results)
    slow_goal = any((r["first_new_ms"]["max"] or float("inf")) > FIRST_ANSWER_GOAL * 1000 for r in results)
    summary = {"nginx": version.replace("nginx version: ", ""), "delay_s": args.delay, "results": results,
               "goals": {"zero_failed": not failed_goal, "first_answer_within_1s": not slow_goal}}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"bench/switch.py: {summary['nginx']}, {args.threads} client threads per mode, apps in subprocesses "
              f"({args.delay * 1000:g} ms handlers), {results[0]['switches'] if results else 0} switches per mode")
        print(f"{'mode':<10} {'requests':>9} {'failed':>7} {'retried':>8}   {'first new colour ms':>21}   "
              f"{'last old colour ms':>20}   {'switch command ms':>19}")
        for r in results:
            retried = str(r["retried"]) if r["mode"] == "keepalive" else "-"
            print(f"{r['mode']:<10} {r['requests']:>9} {r['failed']:>7} {retried:>8}   "
                  f"{_pair(r['first_new_ms']):>21}   {_pair(r['last_old_ms']):>20}   {_pair(r['command_ms']):>19}")
            for e in r["errors"]:
                print(f"    failed: {e}")
        print("(ms columns: median / max over the switches; first/last: from the switch command to the first "
              "answer of the new colour / the last answer of the old one, as the clients saw them)")
        print(f"goal 0 failed requests (new connections; keep-alive with one retry): "
              f"{'met' if not failed_goal else 'MISSED'}")
        print(f"goal first answer of the new colour within {FIRST_ANSWER_GOAL:g} s: "
              f"{'met' if not slow_goal else 'MISSED'}")
    return 1 if failed_goal or slow_goal else 0


def _pair(d: dict) -> str:
    return f"{d['median']} / {d['max']}"


if __name__ == "__main__":
    sys.exit(main())
