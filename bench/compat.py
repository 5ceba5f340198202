"""Benchmark: what `migrator compat` costs beyond the blue suite's own pytest time.

    python bench/compat.py [--runs 5] [--providers url,embedded] [--database-url URL] [--profile]

On the demo repository (migrator.demo.build_demo_repo: tags blue, green), each run is one whole process,
`migrator compat --blue blue --green green --provider P --format json`, timed from outside:

  total    = wall time of the migrator process (interpreter start to exit)
  suite    = the wall time during which a suite ran, from cells[].started/.duration of its JSON report:
             pytest's wall time as migrator measures it around each pytest subprocess (interpreter start,
             collection, the tests, exit); a default check runs two cells (blue and green on the expanded
             schema), side by side, so this is the union of their intervals, not their sum
  overhead = total - suite: everything migrator adds (worktrees, the project's children in the app's
             interpreter, heads and plan, the databases, green's revisions, fingerprints, cleanup, its own start)

(i)  url: the server at --scratch-url (default $MIGRATOR_SCRATCH_URL, else
     postgresql://postgres@127.0.0.1:5432/postgres). One warm-up run first builds blue's template
     (migrator_tpl_<hash>); the timed runs clone it. The template is dropped at the end.
(ii) embedded: pgserver's binaries, from cold: every run initdb's and starts its own server and stops it.

Targets (median of --runs): overhead <= 1.0 s (url), <= 3.0 s (embedded). Exit 1 when a target fails,
2 when a run did not pass. --profile adds, per provider, a breakdown of one extra in-process run
(where the overhead goes: worktrees, project children, plan, server start, template clone, green apply,
fingerprints, pytest).
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
import time
from contextlib import contextmanager
from pathlib import Path

TARGETS = {"url": 1.0, "embedded": 3.0}
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_BUILT = re.compile(r"building blue's schema into template (migrator_tpl_[0-9a-f]+)")  # the templates it drops


def migrator_command() -> list[str]:
    script = Path(sys.executable).with_name("migrator")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "from migrator.cli import main; main()"]


def run_once(repo: Path, provider: str, url: str | None) -> dict:
    command = [*migrator_command(), "compat", "--blue", "blue", "--green", "green", "--provider", provider,
               "--format", "json"]
    if url and provider == "url":
        command += ["--scratch-url", url]
    env = {k: v for k, v in os.environ.items() if k not in ("MIGRATOR_DEBUG", "FORCE_COLOR", "MIGRATOR_DATABASE_URL")}
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                          timeout=300)
    total = time.perf_counter() - started
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = None
    if proc.returncode != 0 or not report or report.get("result") != "pass":
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        print(f"bench: {provider} run failed (exit {proc.returncode}):\n{tail}", file=sys.stderr)
        raise SystemExit(2)
    suite = _union([(c["started"], c["started"] + c["duration"]) for c in report["cells"]])
    templates = set(_BUILT.findall(proc.stderr))
    return {"total": total, "suite": suite, "overhead": total - suite, "templates": templates}


def _union(intervals: list[tuple[float, float]]) -> float:
    """Wall time during which at least one suite ran (cells may run side by side)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def drop_templates(url: str, names: set[str]) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        for name in sorted(names):
            ident = sql.Identifier(name)
            conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(ident))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(ident))


def bench_provider(repo: Path, provider: str, runs: int, url: str | None, with_profile: bool = False) -> dict:
    templates: set[str] = set()
    breakdown = None
    try:
        if provider == "url":
            warm = run_once(repo, provider, url)  # builds blue's template: not timed
            templates |= warm["templates"]
            print(f"  url: warm-up {warm['total']:.2f}s (template built)", file=sys.stderr)
        samples = []
        for i in range(runs):
            sample = run_once(repo, provider, url)
            templates |= sample["templates"]
            samples.append(sample)
            print(f"  {provider}: run {i + 1}/{runs}: total {sample['total']:.2f}s, suite {sample['suite']:.2f}s, "
                  f"overhead {sample['overhead']:.2f}s", file=sys.stderr)
        if with_profile:  # while blue's template still exists: the profile clones it like the timed runs
            breakdown = _profile_in_child(repo, provider, url)
    finally:
        if templates and url:
            drop_templates(url, templates)
            print(f"  {provider}: dropped blue's template {', '.join(sorted(templates))}", file=sys.stderr)
    median = {k: statistics.median(s[k] for s in samples) for k in ("total", "suite", "overhead")}
    return {"provider": provider, "runs": runs, **median, "target": TARGETS[provider],
            "ok": median["overhead"] <= TARGETS[provider], "profile": breakdown}


# --- profile: one in-process run, each phase timed ----------------------------------------------------


def profile(repo: Path, provider: str, url: str | None) -> list[tuple[str, float]]:
    """Time the phases of migrator.compat.run.compat by wrapping the functions it calls (same process)."""
    import importlib

    marks: list[tuple[str, float]] = []

    def timed(module, name, label):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                marks.append((label, time.perf_counter() - t))

        setattr(module, name, wrapper)
        return module, name, original

    def timed_cm(module, name, enter_label, exit_label):
        original = getattr(module, name)

        @contextmanager
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            cm = original(*args, **kwargs)
            value = cm.__enter__()
            marks.append((enter_label, time.perf_counter() - t))
            try:
                yield value
            except BaseException as exc:
                t = time.perf_counter()
                if not cm.__exit__(type(exc), exc, exc.__traceback__):
                    raise
            else:
                t = time.perf_counter()
                cm.__exit__(None, None, None)
            finally:
                marks.append((exit_label, time.perf_counter() - t))

        setattr(module, name, wrapper)
        return module, name, original

    started = time.perf_counter()
    t = time.perf_counter()
    run = importlib.import_module("migrator.compat.run")
    from migrator import runner
    from migrator.classify import catalog
    from migrator.compat import apply, git, suite, template
    from migrator.db import fingerprint
    from migrator.compat.options import CompatOptions
    from migrator.config import Config
    from migrator.provision import _providers

    marks.append(("import migrator.compat", time.perf_counter() - t))
    patches = [
        timed(git, "resolve_ref", "git: resolve refs"),
        timed_cm(git, "worktree", "git: worktree add", "git: worktree remove"),
        timed(runner.ProjectRunner, "start", "project children: interpreter start"),
        timed(template, "blue_database", "blue schema (template clone / build, blue heads)"),
        timed(catalog, "knowledge_from_url", "blue's catalog for the classifier"),
        timed(apply, "plan_green", "green plan (child: offline render; classify: sqlglot)"),
        timed(apply, "apply_plan", "green apply (child: alembic online)"),
        timed(fingerprint, "schema_fingerprint", "fingerprint"),
        timed(suite, "run_suite", "pytest subprocess"),
    ]
    provider_cls = _providers.PROVIDERS[provider]
    patches.append(timed(provider_cls, "start", f"server start ({provider})"))
    # run.py imports these names inside its functions, from the modules: the patches above take effect
    try:
        opts = CompatOptions(blue="blue", green="green", repo=repo, provider=provider, scratch_url=url)
        result = run.compat(opts, Config())
    finally:
        for module, name, original in patches:
            setattr(module, name, original)
    total = time.perf_counter() - started
    if result.result != "pass":
        print(f"bench: profile run on {provider} did not pass: {result.reason}", file=sys.stderr)
        raise SystemExit(2)
    accounted = sum(d for _, d in marks)
    return [*marks, ("rest (worktree removal, server stop, db drop, glue)", total - accounted),
            ("TOTAL in-process (no interpreter start)", total)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--providers", default="url,embedded")
    parser.add_argument("--scratch-url", "--database-url", dest="database_url",
                        default=os.environ.get("MIGRATOR_SCRATCH_URL") or DEFAULT_URL)
    parser.add_argument("--profile", action="store_true", help="also break one in-process run down by phase")
    args = parser.parse_args(argv)
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    unknown = [p for p in providers if p not in TARGETS]
    if unknown:
        parser.error(f"unknown provider(s) {', '.join(unknown)} (choose from {', '.join(TARGETS)})")

    from migrator.demo import build_demo_repo

    rows, breakdowns = [], {}
    tmp = Path(tempfile.mkdtemp(prefix="migrator-bench-compat-"))
    try:
        repo = build_demo_repo(tmp / "app")  # commits of its own: the templates it drops are its own
        for provider in providers:
            if provider == "embedded":
                from migrator.provision import EmbeddedProvider

                reason = EmbeddedProvider().unavailable()
                if reason:
                    print(f"  embedded: skipped ({reason})", file=sys.stderr)
                    continue
            rows.append(bench_provider(repo, provider, args.runs, args.database_url, args.profile))
            if rows[-1]["profile"]:
                breakdowns[provider] = rows[-1]["profile"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("overhead = wall time of the `migrator compat` process - the wall time during which a suite ran")
    print("(the union of the cells' [started, started + duration] intervals of its JSON report: pytest's wall")
    print(" time as measured by migrator around each pytest subprocess; two cells run side by side)")
    print()
    print(f"{'provider':<9} {'runs':>4} {'median total':>13} {'median suite':>13} {'median overhead':>16} "
          f"{'target':>7}  result")
    for r in rows:
        print(f"{r['provider']:<9} {r['runs']:>4} {r['total']:>12.2f}s {r['suite']:>12.2f}s {r['overhead']:>15.2f}s "
              f"{'<= ' + format(r['target'], '.1f') + 's':>7}  {'PASS' if r['ok'] else 'FAIL'}")
    for provider, marks in breakdowns.items():
        print()
        print(f"profile ({provider}, one in-process run):")
        for label, seconds in marks:
            print(f"  {label:<52} {seconds:>6.3f}s")
    return 0 if all(r["ok"] for r in rows) else 1


def _profile_in_child(repo: Path, provider: str, url: str | None) -> list[tuple[str, float]]:
    """The profile in a fresh interpreter (nothing imported yet, as for a real run)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import compat as b; from pathlib import Path; "
            "print(json.dumps(b.profile(Path(sys.argv[2]), sys.argv[3], sys.argv[4] or None)))")
    proc = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(repo), provider, url or ""],
                          capture_output=True, text=True, timeout=300, cwd=repo)
    if proc.returncode != 0:
        print(f"bench: profile failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        raise SystemExit(2)
    return [tuple(m) for m in json.loads(proc.stdout.strip().splitlines()[-1])]


if __name__ == "__main__":
    sys.exit(main())
