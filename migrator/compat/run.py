"""`migrator compat`: each version's own test suite on the schemas a release puts it on.

The cells (what each gate needs):
  blue/expanded      blue's suite on blue's schema + green's expand and migrate revisions   (expand, switch)
  green/expanded     green's suite on the same schema: green serves on it until contract     (switch)
  green/contracted   green's suite once the held-back contract revisions ran too (`--full`)   (contract)

Flow: worktrees of blue and green; blue's schema built in a throwaway database (cached as a template per
blue commit on a server migrator does not own); blue's real catalog seeds the classifier, which plans
green's revisions (expand/migrate applied, contract held back); every cell runs on its own clone. All
project code runs in the app's interpreter (migrator.runner), one child per worktree and database.

Verdicts, from the cells: a failing test is re-run on its own version's schema (blue on blue's pristine
schema, green on its fully migrated one). Failing there too: the suite's or the environment's problem
(exit 2). Passing there: an incompatibility (exit 1); for green, one that a held-back contract revision
cures means the release has no safe blue-green order. A suite that changes the schema while it runs
(create_all/drop_all, migrations at start-up) makes its cell inconclusive (exit 2), and an app that
migrates at start-up is reported as the hazard it is.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.compat.options import CompatOptions
from migrator.compat.result import Cell, CompatResult, write_evidence
from migrator.config import Config

if TYPE_CHECKING:  # imported where used: `migrator compat` starts without them
    from migrator.compat.apply import GreenPlan
    from migrator.provision import Database, Server
    from migrator.runner import RunnerPool

log = logging.getLogger(__name__)

EXPANDED, CONTRACTED = "expanded", "contracted"
DEFAULT_CELLS = (("blue", EXPANDED), ("green", EXPANDED))
FULL_CELLS = DEFAULT_CELLS + (("green", CONTRACTED),)
CELL_ENV = "MIGRATOR_CELL"  # read by migrator.pytest_plugin: which cell the suite runs in
CELL_REPORT_ENV = "MIGRATOR_CELL_REPORT"  # the plugin writes what it deselected there
WORKER_ENV = "MIGRATOR_WORKER_ENV"  # read by migrator.pytest_plugin: each xdist worker's own database
BISECT_LIMIT = 5
_CANT_LOCATE = re.compile(r"Can't locate revision identified by '([^']+)'")
SPLIT_ADVICE = ("split it: add the new shape beside the old one (expand), have green write both or keep them in "
                "sync with a trigger, backfill (migrate), switch, and drop the old shape only in the contract phase")


def compat(opts: CompatOptions, config: Config | None = None) -> CompatResult:
    """Run the cells and decide. Policy outcomes are in the result; errors raise.

    Raises MigratorError subclasses (exit 2) for usage and infrastructure problems. Whatever happens,
    the databases, worktrees, children and servers it made are gone when it returns or raises.
    """
    from migrator.compat import git
    from migrator.compat.errors import CompatError, CompatRefused, RevisionFailed
    from migrator.provision import trap_sigterm, untrap_sigterm

    started = time.monotonic()
    result = CompatResult(blue_ref=opts.blue, green_ref=opts.green, project_dir=opts.project_dir,
                          timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    config = config or Config()
    result.required_cells = [f"{a}/{s}" for a, s in (FULL_CELLS if opts.full else DEFAULT_CELLS)]
    if opts.evidence is not None:
        _check_writable(Path(opts.evidence))
        Path(opts.evidence).unlink(missing_ok=True)  # a stale pass must never outlive a run without a verdict
    repo = git.repo_root(opts.repo)
    result.blue_sha = git.resolve_ref(repo, opts.blue, role="blue")
    result.green_sha = git.resolve_ref(repo, opts.green or "HEAD", role="green")
    guarded = trap_sigterm()  # SIGTERM -> exception, so every `with` below cleans up
    try:
        with ExitStack() as stack:
            check = _Check(opts, config, result, stack, repo)
            try:
                check.run()
            except (CompatRefused, RevisionFailed) as exc:
                if isinstance(exc, RevisionFailed) and exc.role == "blue":
                    # blue's own history does not build: no verdict about green is possible
                    raise CompatError(f"cannot build blue's schema: {exc}") from None
                result.result, result.reason = "refused", str(exc)
            return _finish(result, opts, started)
    finally:
        if guarded:
            untrap_sigterm()


def _load_classifier() -> None:
    try:
        from migrator.rules.registry import all_rules
        from migrator.sql.split import dialect

        all_rules()
        dialect()
    except Exception:  # noqa: BLE001 - only a head start: the real import reports any problem
        pass


def _check_writable(path: Path) -> None:
    """--evidence must be writable before minutes of suites run, not after."""
    from migrator.compat.errors import CompatError

    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise CompatError(f"--evidence {path}: is a directory")
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CompatError(f"--evidence {path}: cannot write there (permission denied)")


@dataclass
class _Schemas:
    """The databases of one check, by what they hold."""

    source: str = ""  # blue's pristine schema, to clone from: the cached template, or the database built
    expanded: Database | None = None  # blue + green's expand/migrate revisions
    expanded_used: bool = False  # a suite ran on it: no longer a source for clones
    contracted: Database | None = None  # expanded + the held-back revisions (green's full schema), made on demand


class _Check:
    # set by run(), each before its first use
    plan: GreenPlan  # _plan_and_apply_green
    server: Server  # _start_server
    pool: RunnerPool  # _start_pool
    python: str  # _start_pool

    def __init__(self, opts: CompatOptions, config: Config, result: CompatResult, stack: ExitStack, repo: Path):
        self.opts, self.config, self.result, self.stack, self.repo = opts, config, result, stack, repo
        self.dbs = _Schemas()
        self.plugin_args: list[str] = []
        self.plugin_path: str | None = None
        self.workers = _worker_count(opts.workers)
        self.started = time.monotonic()

    # -- set-up ---------------------------------------------------------------------------------------------
    def run(self) -> None:
        from migrator.compat import git

        opts, result, stack = self.opts, self.result, self.stack
        self.wanted = FULL_CELLS if opts.full else DEFAULT_CELLS
        subdir = git.project_subdir(self.repo, self.repo / opts.project_dir)
        self.user_dir = self.repo / subdir
        self._start_pool()  # its spare children import alembic while the server starts and git works
        self._start_server()
        # the classifier (sqlglot, the rules) loads while git and the copies of blue's schema work: after the
        # server's driver, whose import would otherwise share the interpreter's lock with it
        threading.Thread(target=_load_classifier, name="migrator-load-classifier", daemon=True).start()
        # every cell on the expanded schema gets its own copy of it: green's revisions are applied once, on the
        # first copy of blue's schema (in one child of green's), which is then copied for the other cells
        self.expanded_names = {cell: self.server.new_name("migrator_check")
                               for cell in self.wanted if cell[1] == EXPANDED}
        self.first_cell = next(iter(self.expanded_names))
        self._early_clones()
        self.blue_dir = stack.enter_context(git.worktree(self.repo, result.blue_sha, role="blue", subdir=subdir))
        if opts.green is None:
            self.green_dir = self.repo / subdir
            result.green_dirty = git.working_tree_is_dirty(self.repo, subdir)
        else:
            self.green_dir = stack.enter_context(git.worktree(self.repo, result.green_sha, role="green",
                                                              subdir=subdir))
        self._check_layout()
        # green's child (apps read their database at import: it is the first copy's) reads the history while
        # blue's schema is made
        self.runner("green", self.green_dir, self.server.url_of(self.expanded_names[self.first_cell])
                    ).prefetch("history")
        self._build_blue()
        self._plan_and_apply_green()
        self._run_cells()
        self._decide()

    def _check_layout(self) -> None:
        from migrator.compat.errors import CompatError

        opts = self.opts
        for role, folder in (("blue", self.blue_dir), ("green", self.green_dir)):
            if not folder.is_dir():
                raise CompatError(f"{role}: project folder {opts.project_dir!r} does not exist at that commit")
            if not (folder / opts.alembic_ini).is_file():
                raise CompatError(f"{role}: {opts.alembic_ini} not found in {opts.project_dir!r}")
            if not (folder / opts.suite.split("::", 1)[0]).exists():  # a pytest node id names a file
                raise CompatError(f"{role}: test suite {opts.suite!r} not found in {opts.project_dir!r}")

    def _start_pool(self) -> None:
        from migrator.runner import RunnerPool, find_python

        opts, config = self.opts, self.config
        base = config.source.parent if config.source else self.user_dir
        self.python, source = find_python(self.user_dir, opts.python, config.python, base)
        log.info("project code runs in %s (%s)", self.python, source)
        self.pool = self.stack.enter_context(RunnerPool(
            python=self.python, alembic_ini=opts.alembic_ini, app=opts.app or config.app,
            script_location=opts.script_location or config.script_location, timeout=opts.timeout,
            echo=_Echo(), secrets=()))
        self.pool.warm(1, cwd=self.user_dir, url_form=opts.url_form)  # green's child

    def _start_server(self) -> None:
        from migrator.provision import get_provider

        opts, result = self.opts, self.result
        self.server = self.stack.enter_context(get_provider(opts.provider, url=opts.scratch_url).start())
        _refuse_target(self.server)
        result.provider = self.server.provider
        result.postgres_version = self.server.version
        log.info("throwaway PostgreSQL %s from the %s provider", self.server.version // 10000, self.server.provider)

    def _early_clones(self) -> None:
        """With blue's template already on the server (url provider, cached), its copies for the cells are made
        now, while the worktrees and the app's children start (CREATE DATABASE waits on the server's disk)."""
        from concurrent.futures import ThreadPoolExecutor

        from migrator.compat.template import cached_template

        self.clones = None
        key = (self.result.blue_sha, self.opts.project_dir, self.opts.alembic_ini)
        name = cached_template(self.server, key, cache=self.opts.template_cache)
        if name is None:
            return
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="migrator-clone")
        self.clones = (name, pool.submit(self.server.clone_many, name, [self.expanded_names[self.first_cell]]))
        # before the server's cleanup (the stack unwinds in reverse): no CREATE DATABASE is left in flight
        self.stack.callback(pool.shutdown, wait=True)

    def env_for(self, url: str, cell: str | None = None) -> dict[str, str]:
        from migrator.runner.appenv import render_env

        env = render_env(url, self.opts.url_var, self.opts.url_form, self.opts.env_map, self.opts.env)
        if cell:
            env[CELL_ENV] = cell
        return env

    def runner(self, role: str, folder: Path, url: str):
        return self.pool.get(folder, env=self.env_for(url), role=role, secrets=self._secrets(url))

    def _secrets(self, url: str) -> list[str]:
        from migrator.runner.appenv import secret_names
        from migrator.db.urls import DatabaseURL

        env = self.env_for(url)
        found = set(DatabaseURL.parse(url).secret_strings())
        for key in secret_names(env, url):
            value = env[key]
            found.update([value] if len(value) >= 4 else [])
        return sorted(found, key=len, reverse=True)

    # -- blue -----------------------------------------------------------------------------------------------
    def _build_blue(self) -> None:
        """Blue's schema, cloned into the first expanded cell's database; blue's heads, catalog and fingerprint are
        read from it."""
        from migrator.classify.catalog import knowledge_from_url
        from migrator.compat.apply import single_head, upgrade
        from migrator.db.fingerprint import schema_fingerprint
        from migrator.compat.template import blue_source

        opts, result = self.opts, self.result
        built: dict = {}

        def build(url: str) -> None:  # an empty database to blue's schema, in blue's interpreter
            child = self.runner("blue", self.blue_dir, url)
            built["heads"] = child.heads()
            upgrade(self.blue_dir, opts.alembic_ini, url, "heads", role="blue", runner=child)

        first = self.expanded_names[self.first_cell]
        key = (result.blue_sha, opts.project_dir, opts.alembic_ini)
        made = self._cached_copy(first, key, build)
        if made is None:  # the template went before its clone: blue into a database of ours (no other run drops it)
            self.dbs.source, _ = blue_source(self.server, key, build, cache=False)
            made = self.server.clone_many(self.dbs.source, [first])
        self.cell_dbs = {self.first_cell: made[0]}
        url = made[0].url
        heads = built.get("heads")
        if heads is None:  # cloned from a cached template: the database says where blue's head is
            heads = _alembic_heads(url)
        if heads is None:  # a version table of another name: ask blue's checkout
            heads = self.runner("blue", self.blue_dir, url).heads()
        head = single_head(sorted(heads), "blue") if heads else None
        self.blue_heads = [head] if head is not None else []
        self.knowledge = knowledge_from_url(url)
        result.schemas["blue"] = schema_fingerprint(url)

    def _cached_copy(self, first: str, key: tuple[str, ...], build) -> list[Database] | None:
        """`first` cloned from blue's source: the template _early_clones found (its copy is made already), else what
        blue_source finds or builds. None when the template was dropped between the lookup and the clone (by another
        run on the shared server, or --prune-templates)."""
        from functools import partial

        from migrator.compat.template import blue_source, template_exists
        from migrator.provision import ProvisionError

        if self.clones is not None:  # made while the worktrees and children started
            self.dbs.source, copy = self.clones[0], self.clones[1].result
        else:
            self.dbs.source, _ = blue_source(self.server, key, build, cache=self.opts.template_cache)
            copy = partial(self.server.clone_many, self.dbs.source, [first])
        try:
            return copy()
        except ProvisionError:
            if template_exists(self.server, self.dbs.source):
                raise
        log.warning("blue's template %s was dropped before it was cloned (by another run, or --prune-templates): "
                    "building blue's schema afresh", self.dbs.source)
        return None

    # -- green ----------------------------------------------------------------------------------------------
    def _plan_and_apply_green(self) -> None:
        """Green's plan, and its expand and migrate revisions on the first copy of blue's schema, which is then
        copied for the other cells on the expanded schema (an exact copy: one schema stands for all of them)."""
        from migrator.compat.apply import plan_green
        from migrator.db.fingerprint import schema_fingerprint

        opts, result = self.opts, self.result
        first = self.cell_dbs[self.first_cell]
        child = self.runner("green", self.green_dir, first.url)
        self.plan = plan_green(self.green_dir, opts.alembic_ini, self.blue_heads, self.config, runner=child,
                               knowledge=self.knowledge)
        result.revisions = _revisions(self.blue_heads, self.plan)
        if self.plan.apply:
            log.info("applying green's %s", ", ".join(f"{rev} ({phase})" for rev, phase in self.plan.apply))
        self._apply_green(first)
        rest = [(cell, name) for cell, name in self.expanded_names.items() if cell != self.first_cell]
        copies = self.server.clone_many(first.name, [name for _, name in rest])
        self.cell_dbs.update((cell, db) for (cell, _), db in zip(rest, copies))
        # read from a copy (same schema), so that no session of ours was just on the first database when it was
        # copied: PostgreSQL waits for an ending session in 100 ms steps
        result.schemas["expanded"] = schema_fingerprint((copies or [first])[-1].url)
        self.dbs.expanded = first  # the source of later copies until a suite runs on it

    def _apply_green(self, db) -> None:
        """Green's expand and migrate revisions on `db`, in its own child."""
        from migrator.compat.apply import apply_plan

        if self.plan.apply:
            apply_plan(self.green_dir, self.opts.alembic_ini, db.url, self.plan,
                       runner=self.runner("green", self.green_dir, db.url))
        self.server.end_sessions(db.name)  # the app may keep pooled connections: clones need none

    def pristine_expanded(self) -> Database:
        """The expanded schema with no suite's rows in it, to clone from (made again once a suite ran there)."""
        if self.dbs.expanded_used:
            db = self.server.create_database(prefix="migrator_check", template=self.dbs.source)
            self._apply_green(db)
            self.dbs.expanded, self.dbs.expanded_used = db, False
        assert self.dbs.expanded is not None, "made by _plan_and_apply_green"
        return self.dbs.expanded

    def contracted_db(self, revisions: list[str] | None = None):
        """A clone of the expanded schema with the held-back revisions (or the first of them) applied."""
        from migrator.compat.apply import apply_revisions

        held = [rev for rev, _ in self.plan.held_back]
        revisions = held if revisions is None else revisions
        db = self.server.create_database(prefix="migrator_check", template=self.pristine_expanded().name)
        if revisions:
            child = self.runner("green", self.green_dir, db.url)
            apply_revisions(self.green_dir, self.opts.alembic_ini, db.url, revisions, runner=child, role="green")
            self.server.end_sessions(db.name)
        return db

    # -- cells ----------------------------------------------------------------------------------------------
    def _run_cells(self) -> None:
        """Each cell on its own database, side by side (`parallel`, the default) or one after the other. The
        contracted copy is made before any suite has touched the expanded schema."""
        from concurrent.futures import ThreadPoolExecutor

        from migrator.db.fingerprint import schema_fingerprint
        from migrator.compat.suite import stop_all

        self._prepare_plugin()
        wanted = self.wanted
        if (("green", CONTRACTED) in wanted) and self.dbs.contracted is None:
            self.dbs.contracted = self.contracted_db()
            self.result.schemas["contracted"] = (schema_fingerprint(self.dbs.contracted.url) if self.plan.held_back
                                                 else self.result.schemas["expanded"])
        jobs = []
        for app, schema in wanted:
            folder = self.blue_dir if app == "blue" else self.green_dir
            db = self.cell_dbs.get((app, schema)) or self.dbs.contracted
            jobs.append((app, schema, folder, db, self.result.schemas[schema]))
        self.dbs.expanded_used = True
        if not (self.opts.parallel and len(jobs) > 1):
            cells = {(j[0], j[1]): self.run_cell(*j[:4], known_fingerprint=j[4]) for j in jobs}
        else:
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                futures = {(j[0], j[1]): pool.submit(self.run_cell, *j[:4], known_fingerprint=j[4], prefixed=True)
                           for j in jobs}
                try:
                    cells = {key: future.result() for key, future in futures.items()}
                except BaseException:  # Ctrl-C, SIGTERM or an error in one cell: no suite keeps running
                    stop_all()
                    raise
        self.result.cells = [cells[key] for key in wanted]

    def _prepare_plugin(self) -> None:
        """The suites need migrator's pytest plugin (cells, markers); load it from the shim when the app's
        interpreter cannot import migrator itself."""
        from migrator.runner import shim_dir

        probe = self.runner("green", self.green_dir, self.cell_dbs[self.first_cell].url).probe()  # green's child
        if not probe.get("pytest"):
            from migrator.compat.errors import SuiteError

            raise SuiteError(f"pytest is not installed for {self.python} (install it in the app's environment or "
                             "pass --python)")
        if self.workers > 1 and not probe.get("xdist"):
            from migrator.compat.errors import SuiteError

            raise SuiteError(f"--workers {self.workers} runs the suites under pytest-xdist, which is not installed for "
                             f"{self.python} (install it in the app's environment, or use --workers 1)")
        if not probe.get("migrator"):
            self.plugin_args = ["-p", "migrator.pytest_plugin"]
            self.plugin_path = str(shim_dir())

    def run_cell(self, app: str, schema: str, folder: Path, db, tests: list[str] | None = None,
                 known_fingerprint: str | None = None, prefixed: bool = False) -> Cell:
        from migrator.db.fingerprint import schema_fingerprint
        from migrator.compat.suite import run_suite

        name = f"{app}/{schema}"
        if tests:
            log.info("running %s's %d failing tests again on %s own schema", app, len(tests),
                     "blue's" if app == "blue" else "green's fully migrated")
        else:
            log.info("running %s's suite %s on the %s schema", app, self.opts.suite, schema)
        env = {k: v for k, v in os.environ.items() if k not in _PRIVATE} | self.env_for(db.url, name)
        if self.plugin_path:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), self.plugin_path) if p)
        report = Path(self.server_tmp()) / f"cell-{os.getpid()}-{time.monotonic_ns()}.json"
        env[CELL_REPORT_ENV] = str(report)
        secrets = self._secrets(db.url)

        def clean(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, "***")
            return text

        # a fresh copy of a database whose fingerprint was just taken has that fingerprint
        before, heads_before = known_fingerprint or schema_fingerprint(db.url), _alembic_heads(db.url) or []
        # no tracebacks unless the user asks (--pytest-args=--tb=short): pytest's summary names each failure and the
        # verdict reads the JUnit report
        tb = () if any(a.startswith("--tb") for a in self.opts.pytest_args) else ("--tb=no",)
        args = (*tb, *self.plugin_args, *self.opts.pytest_args)
        workers = [db]
        if self.workers > 1 and not tests:  # pytest-xdist: worker i on its own copy of the cell's database
            names = [self.server.new_name("migrator_check") for _ in range(self.workers - 1)]
            workers += self.server.clone_many(db.name, names)
            env[WORKER_ENV] = json.dumps({f"gw{i}": self.env_for(w.url, name) for i, w in enumerate(workers)})
            args = (*args, "-n", str(self.workers))
        started = time.monotonic() - self.started
        outcome = run_suite(folder, tests or self.opts.suite, self.python, env, self.opts.timeout, args=args,
                            inherit_env=False, scrub=clean, stream=_Prefixed(sys.stderr, f"[{name}] ") if prefixed
                            else sys.stderr)
        after, heads_after = schema_fingerprint(db.url), _alembic_heads(db.url) or []
        for worker in workers[1:]:  # every worker's database must still be the schema under test
            theirs = schema_fingerprint(worker.url)
            if theirs != before:
                after = theirs
        cell = Cell(app=app, schema=schema, result="pass", passed=outcome.passed, failed=outcome.failed,
                    errors=outcome.errors, skipped=outcome.skipped, total=outcome.total,
                    duration=round(outcome.duration, 3), deselected=_deselected(report),
                    failures=[{"test": test, "error": clean(error), "attribution": None}
                              for test, error in outcome.failures],
                    fingerprint_before=before, fingerprint_after=after, started=round(started, 3))
        # notes for _decide only, not fields of the evidence model (ignore: they are not declared there)
        cell.heads = (heads_before, heads_after)  # type: ignore[attr-defined]
        cell.logs = {test: clean(log) for test, log in outcome.logs.items()}  # type: ignore[attr-defined]
        if outcome.killed:
            cell.result, cell.reason = "error", f"pytest was killed before it finished ({outcome.killed_reason})"
        elif outcome.collection_error:
            cell.result, cell.reason = "error", f"collection error: {clean(outcome.collection_error)}"
        elif outcome.total == 0:
            cell.result, cell.reason = "inconclusive", "no test ran: no tests is no evidence"
        elif outcome.skipped == outcome.total:
            cell.result, cell.reason = "inconclusive", (f"no test ran: all {outcome.total} were skipped (no tests is "
                                                        "no evidence)")
        elif outcome.failed or outcome.errors or outcome.exit_code not in (0,):
            cell.result = "fail"
            cell.reason = f"{outcome.failed + outcome.errors} of {outcome.total} tests failed"
        return cell

    def server_tmp(self) -> str:
        import tempfile

        if not hasattr(self, "_tmp"):
            self._tmp = self.stack.enter_context(tempfile.TemporaryDirectory(prefix="migrator-compat-cells-"))
        return self._tmp

    # -- verdict --------------------------------------------------------------------------------------------
    def _decide(self) -> None:
        result = self.result
        hazards: list[str] = []  # definite: exit 1
        unsure: list[str] = []  # inconclusive or errors: exit 2
        for cell in result.cells:
            hazard = self._startup_migration(cell)
            if hazard:  # the failures are still re-run on their own schema: the suite may have more to say
                hazards.append(hazard)
            if self._changed_schema(cell, unsure):
                continue
            if cell.result in ("error", "inconclusive"):
                unsure.append(f"{cell.name}: {cell.reason}")
            elif cell.result == "fail":
                for definite, text in self._attribute(cell):
                    (hazards if definite else unsure).append(text)
        result.reasons = hazards + unsure
        if hazards:
            result.result, result.reason = "fail", "; ".join(hazards + unsure)
        elif unsure:
            result.result, result.reason = "inconclusive", "; ".join(unsure)
        else:
            result.result, result.reason = "pass", None

    def _changed_schema(self, cell: Cell, unsure: list[str]) -> bool:
        """A suite that changed the schema while it ran did not test the schema it was given (inconclusive)."""
        if cell.fingerprint_before == cell.fingerprint_after or self.opts.accept_schema_changes:
            return False
        why = (f"{cell.name}: the suite changed the schema while it ran (create_all/drop_all, or migrations at "
               "start-up), so its tests did not all run on the schema under test; keep the schema in the suite "
               "(clean rows instead), or accept it with [tool.migrator.compat] accept_schema_changes = true")
        if cell.result in ("pass", "fail"):
            cell.result = "inconclusive"
        cell.reason = why if not cell.reason else f"{cell.reason}; {why}"
        unsure.append(why)
        return True

    def _startup_migration(self, cell: Cell) -> str | None:
        """Why this app would break the release by migrating at start-up, or None."""
        green_revs = set(self.result.revisions.get("expand", []) + self.result.revisions.get("migrate", [])
                         + self.result.revisions.get("none", []) + self.result.revisions.get("held_back", []))
        logs = getattr(cell, "logs", {})
        for failure in cell.failures:
            match = (_CANT_LOCATE.search(failure.get("error") or "")
                     or _CANT_LOCATE.search(logs.get(failure["test"], "")))
            if cell.app == "blue" and match and match.group(1) in green_revs:
                return (f"blue cannot restart during the release: it runs alembic migrations at start-up and fails on "
                        f"a database at green's revision {match.group(1)} ({failure['test']}: {failure['error']}); "
                        "blue pods that restart after expand would crash. Start the app with "
                        "migrator.startup.check_schema() instead of upgrading (docs/compat.md, start-up checks)")
        before, after = getattr(cell, "heads", (None, None))
        if before != after and after is not None:
            moved = f"{', '.join(before or ['base'])} to {', '.join(after or ['base'])}"
            if cell.app == "green" and cell.schema == EXPANDED:
                return (f"green runs alembic migrations at start-up: its suite moved the database from {moved}, applying "
                        "the held-back contract revisions while blue still serves; start the app with "
                        "migrator.startup.check_schema() instead of upgrading")
            return f"{cell.name}: the suite moved the database's alembic revision from {moved} (migrations at start-up)"
        return None

    def _attribute(self, cell: Cell) -> list[tuple[bool, str]]:
        """[(definite, reason)] for a failing cell: re-run its failing tests on its own version's schema."""
        failing = [f["test"] for f in cell.failures]
        shown = _first_failures(cell)
        if not self.opts.attribute or not failing:
            _mark(cell, "incompatible")
            return [(True, f"{cell.app}'s suite fails on the {cell.schema} schema: {cell.reason} ({shown})")]
        if cell.app == "blue":
            own = self.server.create_database(prefix="migrator_check", template=self.dbs.source)
            where = "blue's own schema"
        else:
            if self.dbs.contracted is None:
                self.dbs.contracted = self.contracted_db()
            own = self.server.create_database(prefix="migrator_check", template=self.dbs.contracted.name)
            where = "green's fully migrated schema"
        again = self.run_cell(cell.app, "own", self.blue_dir if cell.app == "blue" else self.green_dir, own,
                              tests=failing)
        notes: list[tuple[bool, str]] = []
        if again.fingerprint_before != again.fingerprint_after and not self.opts.accept_schema_changes:
            notes.append((False, f"{cell.app}: re-run on {where}, the suite changed the schema while it ran "
                                 "(create_all/drop_all, or migrations at start-up): its tests do not run on the "
                                 "schema they are given; keep the schema in the suite (clean rows instead)"))
        if again.result == "error":
            return notes + [(False, f"{cell.name}: re-running its failing tests on {where} did not work: "
                                    f"{again.reason}")]
        still = {f["test"] for f in again.failures}
        for failure in cell.failures:
            failure["attribution"] = "own-schema" if failure["test"] in still else "incompatible"
        incompatible = [f for f in cell.failures if f["attribution"] == "incompatible"]
        if not incompatible:
            first = cell.failures[0]
            return notes + [(False, f"{cell.name}: {len(cell.failures)} failing test(s) fail on {where} too, so they "
                                    f"say nothing about the release (the suite's or the environment's problem): "
                                    f"{first['test']}: {first['error']}")]
        example = f"{incompatible[0]['test']}: {incompatible[0]['error']}"
        if cell.app == "green" and cell.schema == EXPANDED:
            needed = self._needed_revision([f["test"] for f in incompatible])
            return [(True, f"green cannot run on the expanded schema: {len(incompatible)} of its tests fail there "
                           f"and pass on its fully migrated schema (e.g. {example}); green needs the held-back "
                           f"contract revision {needed}, so this release has no safe blue-green order: "
                           f"{SPLIT_ADVICE}")] + notes
        return [(True, f"{cell.app}'s suite fails on the {cell.schema} schema: {len(incompatible)} of {cell.total} "
                       f"tests pass on {where} and fail here (e.g. {example})")] + notes

    def _needed_revision(self, tests: list[str]) -> str:
        """The first held-back revision after which green's failing tests pass (searched in order, bounded)."""
        held = [rev for rev, _ in self.plan.held_back]
        if len(held) <= 1:
            return held[0] if held else "(none)"
        for k in range(1, min(len(held), BISECT_LIMIT)):
            db = self.contracted_db(held[:k])
            again = self.run_cell("green", "own", self.green_dir, db, tests=tests)
            if again.result == "pass":
                return held[k - 1]
        return held[min(len(held), BISECT_LIMIT) - 1] if len(held) <= BISECT_LIMIT else f"{held[0]} .. {held[-1]}"


_PRIVATE = ("MIGRATOR_DATABASE_URL", "MIGRATOR_SCRATCH_URL", "MIGRATOR_EVIDENCE_KEY")


class _Prefixed:
    """A stream that puts `prefix` before every line (suites running side by side share stderr)."""

    def __init__(self, stream, prefix: str):
        self.stream, self.prefix, self.lock = stream, prefix, threading.Lock()

    def write(self, text: str) -> None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        with self.lock:
            self.stream.write("".join(f"{self.prefix}{line}\n" for line in lines))

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False


class _Echo:
    """Where the project's own output goes: stderr when MIGRATOR_DEBUG is set (else it is only kept for errors)."""

    def write(self, text: str) -> None:
        if os.environ.get("MIGRATOR_DEBUG"):
            sys.stderr.write(text)

    def flush(self) -> None:
        if os.environ.get("MIGRATOR_DEBUG"):
            sys.stderr.flush()


def _worker_count(value) -> int:
    from migrator.compat.errors import CompatError

    if value == "auto":
        return max(1, os.cpu_count() or 1)
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if count < 1:
        raise CompatError(f"--workers {value!r}: expected a number >= 1 or 'auto'")
    return count


def _mark(cell: Cell, attribution: str) -> None:
    for failure in cell.failures:
        failure["attribution"] = failure.get("attribution") or attribution


def _first_failures(cell: Cell, limit: int = 1) -> str:
    return "; ".join(f"{f['test']}: {f['error']}" for f in cell.failures[:limit]) or "no failure recorded"


def _deselected(report: Path) -> int:
    import json

    try:
        return int(json.loads(report.read_text(encoding="utf-8")).get("deselected", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def _alembic_heads(url: str) -> list[str] | None:
    """The database's alembic revisions; None when it has no alembic_version table (or cannot be read)."""
    import psycopg

    from migrator.db.urls import DatabaseURL

    try:
        with psycopg.connect(DatabaseURL.parse(url).libpq(), connect_timeout=10) as conn:
            row = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
            assert row is not None  # a SELECT without FROM returns one row
            if row[0] is None:
                return None
            return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
    except psycopg.Error:
        return None


def _refuse_target(server) -> None:
    """The scratch server must not be the release's target server (MIGRATOR_DATABASE_URL)."""
    import psycopg

    from migrator.compat.errors import CompatError
    from migrator.compat.options import TARGET_ENV
    from migrator.db.urls import DatabaseURL, safe

    target = os.environ.get(TARGET_ENV)
    if not target or server.provider != "url":
        return
    try:
        parsed = DatabaseURL.parse(target)
        with psycopg.connect(parsed.libpq(), connect_timeout=5) as conn:
            row = conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()
            assert row is not None  # pg_control_system() returns one row
            theirs = row[0]
        ours = server.query("cannot identify the scratch server",
                            "SELECT system_identifier FROM pg_control_system()")[0][0]
        same = ours == theirs
    except (psycopg.Error, Exception):  # noqa: BLE001 - target unreachable from here: compare addresses
        same = _same_address(target, server.url)
    if same:
        raise CompatError(f"the scratch server {safe(server.url)} is the release's target server ({TARGET_ENV} = "
                          f"{safe(target)}): compat makes throwaway databases and must not run on production; give "
                          "it its own server with --scratch-url / MIGRATOR_SCRATCH_URL or a provider "
                          "(--provider embedded|local|docker)")


def _same_address(a: str, b: str) -> bool:
    from migrator.db.urls import DatabaseURL

    def key(text):
        url = DatabaseURL.parse(text)
        host = (url.host or "localhost").lower()
        if host in ("localhost", "127.0.0.1", "::1", "") or host.startswith("/"):
            host = "local"
        return host, url.port

    try:
        return key(a) == key(b)
    except Exception:  # noqa: BLE001
        return False


def _revisions(blue_heads: list[str], plan) -> dict:
    applied = {phase: revs for phase, revs in plan.by_phase().items() if phase != "contract"}
    return {"blue_heads": list(blue_heads), **applied, "held_back": [rev for rev, _ in plan.held_back]}


def _finish(result: CompatResult, opts: CompatOptions, started: float) -> CompatResult:
    result.duration = time.monotonic() - started
    if result.result in ("pass", "fail", "refused", "inconclusive") and opts.evidence is not None:
        write_evidence(result, opts.evidence, opts.evidence_key_env)
    return result
