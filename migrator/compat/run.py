"""`migrator compat`: run blue's own test suite against the schema green's expand revisions produce."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path

from migrator.compat.options import CompatOptions
from migrator.compat.result import Cell, CompatResult, write_evidence
from migrator.config import Config

log = logging.getLogger(__name__)


def compat(opts: CompatOptions, config: Config | None = None) -> CompatResult:
    """Prove blue works on the post-expand schema. Policy outcomes are in the result; errors raise.

    Raises MigratorError subclasses (exit 2) for usage and infrastructure problems. Whatever happens,
    the databases, worktrees and servers it made are gone when it returns or raises.
    """
    from migrator.compat import apply, git
    from migrator.compat.errors import CompatError, CompatRefused, RevisionFailed
    from migrator.provision import _signals

    started = time.monotonic()
    result = CompatResult(blue_ref=opts.blue, green_ref=opts.green, project_dir=opts.project_dir,
                          timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    config = config or Config()
    if opts.evidence is not None:
        # a stale pass must never outlive a run that ends without a verdict (exit 2)
        Path(opts.evidence).unlink(missing_ok=True)
    repo = git.repo_root(opts.repo)
    result.blue_sha = git.resolve_ref(repo, opts.blue, role="blue")
    result.green_sha = git.resolve_ref(repo, opts.green or "HEAD", role="green")
    guarded = _signals.acquire()  # SIGTERM -> exception, so every `with` below cleans up
    try:
        with ExitStack() as stack:
            subdir = git.project_subdir(repo, repo / opts.project_dir)  # relative to the repository root
            blue_dir = stack.enter_context(git.worktree(repo, result.blue_sha, role="blue", subdir=subdir))
            if opts.green is None:
                green_dir = repo / subdir
                result.green_dirty = git.working_tree_is_dirty(repo, subdir)
            else:
                green_dir = stack.enter_context(git.worktree(repo, result.green_sha, role="green", subdir=subdir))
            _check_layout(opts, blue_dir, green_dir)
            # env.py runs offline here (no database yet): it gets the same variables as online, with a
            # placeholder database, so that settings it needs at import (POSTGRES_*, SECRET_KEY...) exist
            with _environ(_alembic_env(opts, OFFLINE_URL)):
                blue_heads = apply.alembic_heads(blue_dir, opts.alembic_ini)
                try:
                    plan = apply.plan_green(green_dir, opts.alembic_ini, blue_heads, config)
                except CompatRefused as exc:
                    result.result, result.reason = "refused", str(exc)
                    return _finish(result, opts, started)
            result.revisions = _revisions(blue_heads, plan)
            try:
                _run_checks(opts, result, stack, blue_dir, green_dir, plan)
            except (CompatRefused, RevisionFailed) as exc:
                if isinstance(exc, RevisionFailed) and exc.role == "blue":
                    # blue's own history does not build: no verdict about green is possible
                    raise CompatError(f"cannot build blue's schema: {exc}") from None
                result.result, result.reason = "refused", str(exc)
            return _finish(result, opts, started)
    finally:
        if guarded:
            _signals.release()


# what env.py sees while migrator reads the project offline: nothing listens there, nothing connects
OFFLINE_URL = "postgresql+psycopg://migrator@localhost:5432/migrator_offline"


@contextmanager
def _environ(extra: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(extra)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _check_layout(opts: CompatOptions, blue_dir: Path, green_dir: Path) -> None:
    from migrator.compat.errors import CompatError

    for role, folder in (("blue", blue_dir), ("green", green_dir)):
        if not folder.is_dir():
            raise CompatError(f"{role}: project folder {opts.project_dir!r} does not exist at that commit")
        if not (folder / opts.alembic_ini).is_file():
            raise CompatError(f"{role}: {opts.alembic_ini} not found in {opts.project_dir!r}")
    suites = [("blue", blue_dir)] + ([("green", green_dir)] if opts.matrix else [])
    for role, folder in suites:
        if not (folder / opts.suite.split("::", 1)[0]).exists():  # a pytest node id names a file
            raise CompatError(f"{role}: test suite {opts.suite!r} not found in {opts.project_dir!r}")


def _revisions(blue_heads: list[str], plan) -> dict:
    applied = {phase: revs for phase, revs in plan.by_phase().items() if phase != "contract"}
    return {"blue_heads": list(blue_heads), **applied, "held_back": [rev for rev, _ in plan.held_back]}


def _run_checks(opts, result: CompatResult, stack: ExitStack, blue_dir: Path, green_dir: Path, plan) -> None:
    from migrator.compat import apply
    from migrator.compat.fingerprint import schema_fingerprint
    from migrator.compat.template import blue_database
    from migrator.provision import get_provider

    server = stack.enter_context(get_provider(opts.provider, url=opts.database_url).start())
    result.provider = server.provider
    result.postgres_version = server.version
    log.info("throwaway PostgreSQL %s from the %s provider", server.version // 10000, server.provider)

    def build_blue(url: str) -> None:  # in a subprocess: blue's code stays out of this process
        apply.upgrade(blue_dir, opts.alembic_ini, url, "heads", _alembic_env(opts, url), role="blue")

    key = (result.blue_sha, opts.project_dir, opts.alembic_ini)
    expanded, _ = blue_database(server, key, build_blue, cache=opts.template_cache)
    result.blue_fingerprint = schema_fingerprint(expanded.url)  # the expand gate compares it with the live schema
    if plan.apply:
        log.info("applying green's %s", ", ".join(f"{rev} ({phase})" for rev, phase in plan.apply))
        # in-process: the classifier already ran green's env.py here, and it saves an interpreter start
        apply.apply_plan(green_dir, opts.alembic_ini, expanded.url, plan, _alembic_env(opts, expanded.url),
                         in_process=True)
    result.fingerprint = schema_fingerprint(expanded.url)

    runs = [("blue", "expanded", blue_dir)]
    if opts.matrix:
        runs += [("green", "expanded", green_dir), ("green", "contracted", green_dir)]
    for app, schema, folder in runs:
        # with --matrix each run gets its own clone: one suite's data never reaches another
        db = server.create_database(prefix="migrator_check", template=expanded.name) if opts.matrix else expanded
        if schema == "contracted" and plan.held_back:
            apply.apply_revisions(green_dir, opts.alembic_ini, db.url, [rev for rev, _ in plan.held_back],
                                  _alembic_env(opts, db.url), role="green")
        result.cells.append(_run_suite(opts, app, schema, folder, db.url))
    failed = [s for s in result.cells if s.result != "pass"]
    result.result = "fail" if failed else "pass"
    if failed:
        result.reason = "; ".join(f"{s.app} suite on the {s.schema} schema: {s.reason}" for s in failed)


def _alembic_env(opts, url: str) -> dict[str, str]:
    from migrator.compat.dbenv import render_env

    return render_env(url, opts.url_var, opts.url_form, opts.env_map, opts.env)


def _run_suite(opts, app: str, schema: str, folder: Path, url: str) -> Cell:
    from migrator.compat.suite import run_suite

    log.info("running %s's suite %s on the %s schema", app, opts.suite, schema)
    from migrator.compat.options import URL_ENV

    # the suite gets the check's database, never the server's admin URL (nor does alembic: apply.upgrade)
    rendered = _alembic_env(opts, url)
    env = {k: v for k, v in os.environ.items() if k != URL_ENV} | rendered
    clean = _scrubber(rendered, url)  # a failing test's message may quote the URL, the password, a secret
    outcome = run_suite(folder, opts.suite, opts.python, env, opts.timeout, args=("--tb=short",), inherit_env=False,
                        scrub=clean)
    run = Cell(app=app, schema=schema, result="pass", passed=outcome.passed, failed=outcome.failed,
               errors=outcome.errors, skipped=outcome.skipped, total=outcome.total,
               duration=round(outcome.duration, 3),
               failures=[{"test": test, "error": clean(error)} for test, error in outcome.failures])
    if outcome.killed:
        run.result, run.reason = "error", f"pytest was killed before it finished ({outcome.killed_reason})"
    elif outcome.collection_error:
        run.result, run.reason = "fail", f"collection error: {clean(outcome.collection_error)}"
    elif outcome.total == 0:
        run.result, run.reason = "fail", "no test ran: no tests is no evidence"
    elif outcome.skipped == outcome.total:  # e.g. the database variable the suite reads was not set
        run.result, run.reason = "fail", f"no test ran: all {outcome.total} were skipped (no tests is no evidence)"
    elif outcome.failed or outcome.errors or outcome.exit_code not in (0,):
        run.result = "fail"
        run.reason = f"{outcome.failed + outcome.errors} of {outcome.total} tests failed"
    return run


def _scrubber(env: dict[str, str], url: str):
    """text -> text without the database URL (any form), its password, or the value of a secret variable
    (dbenv.secret_names: *PASSWORD*, *SECRET*, *TOKEN*..., or holding the password); each becomes ***."""
    from migrator.compat.apply import secrets_of
    from migrator.compat.dbenv import secret_names

    secrets = set(secrets_of(url))
    for key in secret_names(env, url):
        value = env[key]
        secrets.update(secrets_of(value) if "://" in value else [value] if len(value) >= 4 else [])
    ordered = sorted((s for s in secrets if s), key=len, reverse=True)

    def clean(text: str) -> str:
        for secret in ordered:
            text = text.replace(secret, "***")
        return text

    return clean


def _finish(result: CompatResult, opts: CompatOptions, started: float) -> CompatResult:
    result.duration = time.monotonic() - started
    if any(s.result == "error" for s in result.cells):
        result.result = "error"
    if opts.evidence is not None and result.result in ("pass", "fail", "refused"):
        write_evidence(result, opts.evidence, opts.evidence_key_env)
    return result
