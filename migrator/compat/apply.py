"""Alembic for `migrator compat`: heads, green's plan, and `alembic upgrade` on the throwaway database.

    blue_head = alembic_head(blue_dir, "alembic.ini", "blue")          # offline, no database
    upgrade(blue_dir, "alembic.ini", db.url, blue_head or "heads", env, role="blue")
    plan = plan_green(green_dir, "alembic.ini", [blue_head], config)   # CompatRefused (exit 1) when stopped
    apply_plan(green_dir, "alembic.ini", db.url, plan, env)            # expand + migrate, contract held back

`upgrade` runs alembic ONLINE in a fresh interpreter (`python -P .../_alembic_main.py`, cwd = the
project folder): the URL and target travel in the environment, never on the command line, and the
URL is set as `sqlalchemy.url` (besides whatever `env` sets, e.g. DATABASE_URL). A revision that
raises is RevisionFailed(revision, first error line) (exit 1); anything else that stops alembic is
CompatError (exit 2). `in_process=True` runs the same code in this interpreter (saves ~0.3 s of
python start + alembic/SQLAlchemy import) inside `isolated(project_dir)`, which gives env.py the
project folder as cwd and takes back the modules, sys.path entries, environment and logging set-up
it made, so blue's and green's app modules never meet.

Everything that reads a project in this process (heads, the classifier's offline run) goes through
`isolated` too.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from migrator.compat import _alembic_main as runner
from migrator.compat.errors import CompatError, CompatRefused, RevisionFailed
from migrator.config import Config
from migrator.errors import MigratorError
from migrator.model import MigrationReport, Report
from migrator.phases import Phase
from migrator.provision._procs import kill_group

RUNNER = Path(runner.__file__).resolve()
ADMIN_URL_ENV = "MIGRATOR_DATABASE_URL"  # migrator.provision.URL_ENV (not imported: keep this module light)


# --- isolation -------------------------------------------------------------------------------------------


def _within(file: str | None, roots: Sequence[Path]) -> bool:
    if not file:
        return False
    try:
        path = Path(file).resolve()
    except (OSError, ValueError):
        return False
    return any(path == r or r in path.parents for r in roots)


def _installed_roots() -> list[Path]:
    """Folders whose modules are never unloaded: the interpreter's, site-packages, migrator itself (a project
    folder may hold the virtualenv, e.g. the demo app in migrator's own checkout)."""
    import site

    roots = {sys.prefix, sys.exec_prefix, sys.base_prefix, *site.getsitepackages(), site.getusersitepackages()}
    found = [Path(r).resolve() for r in roots if r]
    found.append(Path(__file__).resolve().parents[1])  # the migrator package
    return found


def _drop_relative_finders() -> None:
    """FileFinder for '' / '.' is bound to the cwd it was created in: forget it when cwd changes."""
    for key in [k for k in sys.path_importer_cache if not os.path.isabs(k or "")]:
        sys.path_importer_cache.pop(key, None)


@contextmanager
def isolated(project_dir: str | Path, env: Mapping[str, str] | None = None, *, capture: io.StringIO | None = None
             ) -> Iterator[Path]:
    """Run project code (env.py, revision files, the app modules they import) in this process and take
    its traces back afterwards: cwd, sys.path, modules imported from the project (or from sys.path
    entries it added), import caches, os.environ (`env` is added for the duration), logging set-up;
    stdout and stderr go to `capture` (default: discarded)."""
    from migrator.alembic_source import _logging_state, _restore_logging

    folder = Path(project_dir).resolve()
    saved_cwd = os.getcwd()
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    saved_cache = set(sys.path_importer_cache)
    saved_environ = dict(os.environ)
    saved_logging = _logging_state()
    saved_disable = logging.root.manager.disable
    sink = capture if capture is not None else io.StringIO()
    os.chdir(folder)
    _drop_relative_finders()
    try:
        if env:
            os.environ.update(env)
        with redirect_stdout(sink), redirect_stderr(sink):
            yield folder
    finally:
        os.chdir(saved_cwd)
        added_paths = [Path(p if os.path.isabs(p) else os.path.join(folder, p)).resolve()
                       for p in sys.path if p not in saved_path]
        roots = [folder, *added_paths]
        keep = _installed_roots()
        for name in [n for n in sys.modules if n not in saved_modules]:
            module = sys.modules.get(name)
            file = getattr(module, "__file__", None) if module is not None else None
            # a virtualenv inside the project folder is not project code: unloading half of SQLAlchemy breaks it
            if module is not None and _within(file, roots) and not _within(file, keep):
                del sys.modules[name]
        sys.path[:] = saved_path
        for key in [k for k in sys.path_importer_cache if k not in saved_cache]:
            sys.path_importer_cache.pop(key, None)
        _drop_relative_finders()
        if dict(os.environ) != saved_environ:
            os.environ.clear()
            os.environ.update(saved_environ)
        logging.disable(saved_disable)
        _restore_logging(saved_logging)


def _ini_path(project_dir: str | Path, alembic_ini: str | Path, role: str | None) -> Path:
    path = Path(alembic_ini)
    if not path.is_absolute():
        path = Path(project_dir) / path
    if not path.is_file():
        who = f"{role}: " if role else ""
        raise CompatError(f"{who}alembic config {alembic_ini} not found in {project_dir}")
    return path.resolve()


def _prefixed(role: str | None, exc: MigratorError) -> CompatError:
    return CompatError(f"{role}: {exc}" if role else str(exc))


# --- heads -----------------------------------------------------------------------------------------------


def alembic_heads(project_dir: str | Path, alembic_ini: str | Path = "alembic.ini", *, role: str | None = None
                  ) -> list[str]:
    """The head revision(s) of the project's alembic history, sorted; read from the files, no database."""
    from migrator.alembic_source import load_alembic_config, load_script_directory

    ini = _ini_path(project_dir, alembic_ini, role)
    try:
        with isolated(project_dir):
            cfg = load_alembic_config(str(ini))
            script = load_script_directory(cfg, str(alembic_ini))
            return sorted(script.get_heads())
    except CompatError:
        raise
    except MigratorError as exc:
        raise _prefixed(role, exc) from None


def single_head(heads: Sequence[str], role: str) -> str | None:
    """The one head, None for an empty history; several heads is a CompatError naming them."""
    if len(heads) > 1:
        raise CompatError(f"{role} has multiple alembic heads ({', '.join(sorted(heads))}): merge them "
                          "(`alembic merge heads`) so the release has one order to apply")
    return heads[0] if heads else None


def alembic_head(project_dir: str | Path, alembic_ini: str | Path = "alembic.ini", role: str = "blue") -> str | None:
    return single_head(alembic_heads(project_dir, alembic_ini, role=role), role)


# --- upgrade ---------------------------------------------------------------------------------------------


@dataclass
class Applied:
    """What one `upgrade` did."""

    targets: list[str]
    applied: list[str] = field(default_factory=list)  # revisions whose upgrade() ran, in order
    duration: float = 0.0
    output: str = ""  # alembic's and env.py's output, password-free

    def to_dict(self) -> dict:
        return {"targets": self.targets, "applied": self.applied, "duration": round(self.duration, 3)}


def secrets_of(url: str | None) -> list[str]:
    """The strings that must never be shown: the URL itself and its password (raw and decoded)."""
    if not url:
        return []
    found = [url]
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found += [password, unquote(password)]
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, url: str | None) -> str:
    for secret in secrets_of(url):
        text = text.replace(secret, "***")
    return text


def _targets(target: str | Sequence[str]) -> list[str]:
    items = target.split() if isinstance(target, str) else [str(t) for t in target]
    if not items:
        raise CompatError("alembic upgrade: no target revision")
    return items


def _failure(result: dict | None, returncode: int, output: str, role: str | None, url: str) -> CompatError:
    who = f"{role} " if role else ""
    if result is not None and result.get("revision"):
        return RevisionFailed(str(result["revision"]), scrub(str(result.get("error") or "failed"), url), role=role,
                              statement=scrub(result["statement"], url) if result.get("statement") else None)
    if result is not None:
        return CompatError(f"alembic upgrade of the {who}revisions failed before any revision ran: "
                           f"{scrub(str(result.get('error')), url)}")
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return CompatError(f"alembic upgrade of the {who}revisions was killed by {name}")
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    last = scrub(lines[-1], url) if lines else f"exit status {returncode}"
    return CompatError(f"alembic upgrade of the {who}revisions failed: {last}")


def upgrade(project_dir: str | Path, alembic_ini: str | Path, db_url: str, target: str | Sequence[str] = "heads",
            env: Mapping[str, str] | None = None, *, role: str | None = None, timeout: float | None = None,
            in_process: bool = False) -> Applied:
    """`alembic upgrade <target>` ONLINE against `db_url`, with cwd = project_dir.

    `target`: a revision id, `heads`, or several ids (upgraded one after the other). `env`: variables
    for env.py (e.g. DATABASE_URL rendered by migrator.compat.dbenv); None means {"DATABASE_URL": db_url}
    so that an env.py reading DATABASE_URL never falls back to one inherited from the caller.
    """
    targets = _targets(target)
    ini = _ini_path(project_dir, alembic_ini, role)
    extra = dict(env) if env is not None else {"DATABASE_URL": db_url}
    if in_process:
        return _upgrade_in_process(Path(project_dir), ini, db_url, targets, extra, role)
    # the child needs neither migrator's private variables nor the server's admin URL
    child_env = {k: v for k, v in os.environ.items() if k not in runner.PRIVATE and k != ADMIN_URL_ENV}
    child_env.update(extra)
    fd, result_path = tempfile.mkstemp(prefix="migrator-alembic-", suffix=".json")
    os.close(fd)
    child_env.update({runner.INI: str(ini), runner.TARGET: " ".join(targets), runner.URL: db_url,
                      runner.RESULT: result_path})
    started = time.perf_counter()
    try:
        output, returncode = _run_child([sys.executable, "-P", str(RUNNER)], Path(project_dir), child_env,
                                        timeout, role)
        result = _read_result(result_path)
    finally:
        try:
            os.unlink(result_path)
        except OSError:
            pass
    output = scrub(output, db_url)
    if returncode != 0 or result is None or not result.get("ok"):
        raise _failure(result, returncode, output, role, db_url)
    return Applied(targets, list(result.get("applied") or []), time.perf_counter() - started, output)


def _run_child(command: list[str], cwd: Path, env: dict, timeout: float | None, role: str | None) -> tuple[str, int]:
    """Run in its own session (Ctrl-C reaches us, not it); kill its whole group when we stop waiting."""
    try:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        raise CompatError(f"cannot start {command[0]}: {exc.strerror or exc}") from None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        who = f"{role} " if role else ""
        raise CompatError(f"alembic upgrade of the {who}revisions timed out after {timeout:g}s") from None
    except BaseException:
        kill_group(proc)
        raise
    return out.decode("utf-8", "replace"), proc.returncode


def _read_result(path: str) -> dict | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return None
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _upgrade_in_process(project_dir: Path, ini: Path, db_url: str, targets: list[str], env: dict,
                        role: str | None) -> Applied:
    state: dict = {"revision": None, "applied": []}
    capture = io.StringIO()
    started = time.perf_counter()
    try:
        with isolated(project_dir, env, capture=capture):
            runner.run_upgrade(str(ini), targets, db_url, state)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - KeyboardInterrupt and signals propagate
        if isinstance(exc, SystemExit) and getattr(exc, "signum", None) is not None:
            raise  # migrator.provision.SignalExit: SIGTERM arrived, clean up and go
        result = {"ok": False, "revision": state["revision"], "error": runner.first_line(exc),
                  "statement": runner.failed_statement(exc)}
        raise _failure(result, 1, scrub(capture.getvalue(), db_url), role, db_url) from None
    return Applied(targets, state["applied"], time.perf_counter() - started, scrub(capture.getvalue(), db_url))


# --- green's plan ----------------------------------------------------------------------------------------


@dataclass
class RevisionPlan:
    """One green revision: its phase (declared, else classified) and what the check does with it."""

    revision: str
    phase: Phase
    declared: Phase | None
    classified: Phase
    mixed: bool
    action: str  # "apply", "hold" (contract, or after one) or "stop"
    note: str | None = None  # why it stops; or the reviewed override it was applied under

    def to_dict(self) -> dict:
        return {"revision": self.revision, "phase": self.phase.label,
                "declared": self.declared.label if self.declared is not None else None,
                "classified": self.classified.label, "mixed": self.mixed, "action": self.action, "note": self.note}


@dataclass
class GreenPlan:
    """Green's revisions after blue's head, in upgrade order. Phases in `apply` / `held_back` are labels
    (`expand`, `migrate`, `none`, `contract`); `revisions` has the details."""

    blue_head: str | None
    green_head: str | None
    apply: list[tuple[str, str]] = field(default_factory=list)  # (revision, phase label), in order
    held_back: list[tuple[str, str]] = field(default_factory=list)
    stop: tuple[str, str] | None = None  # (revision, reason): the check must not go on (exit 1)
    targets: list[str] = field(default_factory=list)  # what to upgrade to so that exactly `apply` runs
    revisions: list[RevisionPlan] = field(default_factory=list)
    report: Report | None = None  # the classification, for evidence / display

    def check(self) -> "GreenPlan":
        """Raise CompatRefused (exit 1) when the plan stops; else return the plan."""
        if self.stop is not None:
            raise CompatRefused(*self.stop)
        return self

    def by_phase(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {p.label: [] for p in Phase}
        for rev, phase in self.apply:
            found[phase].append(rev)
        return found

    def to_dict(self) -> dict:
        return {
            "blue_head": self.blue_head, "green_head": self.green_head,
            "applied": self.by_phase(),
            "held_back": [{"revision": r, "phase": p} for r, p in self.held_back],
            "stop": {"revision": self.stop[0], "reason": self.stop[1]} if self.stop else None,
            "revisions": [r.to_dict() for r in self.revisions],
        }


def plan_green(green_dir: str | Path, alembic_ini: str | Path, blue_heads: Sequence[str] | str | None,
               config: Config | None = None, *, strict: bool = True, trust_reviewed: bool = False) -> GreenPlan:
    """Classify green's revisions after blue's head and decide which to apply.

    Applied in order: expand, migrate and none revisions. The first contract revision and all after it
    are held back. The check stops at a contract revision followed by an expand/migrate one, and at a
    revision declared expand/migrate that classifies contract (also mixed, or U000), named with its
    worst finding: CompatRefused (exit 1; `exc.plan` is the plan) unless `strict=False`, which returns
    the plan with `plan.stop` set (`plan.check()` raises then). `trust_reviewed`: apply such a revision
    anyway when its P507 (declared phase mismatch) is suppressed with a reason.

    Blue's head missing from green's history, or several heads on either side: CompatError (exit 2).
    """
    from migrator.api import classify_alembic
    from migrator.alembic_source import load_alembic_config, load_script_directory

    config = config or Config()
    if isinstance(blue_heads, str):
        blue_heads = [blue_heads]
    blue_head = single_head(list(blue_heads or []), "blue")
    ini = _ini_path(green_dir, alembic_ini, "green")
    try:
        with isolated(green_dir):
            cfg = load_alembic_config(str(ini))
            script = load_script_directory(cfg, str(alembic_ini))
            green_head = single_head(sorted(script.get_heads()), "green")
            if blue_head is not None:
                blue_head = _check_descends(script, blue_head, green_head)
            plan = GreenPlan(blue_head, green_head)
            if green_head is None or green_head == blue_head:
                return plan
            report = classify_alembic(str(ini), f"{blue_head or 'base'}:{green_head}", config=config)
            parents = {rev.revision: _parents(rev) for rev in script.walk_revisions()}
    except CompatError:
        raise
    except MigratorError as exc:
        raise _prefixed("green", exc) from None
    plan.report = report
    _decide(plan, report, config, trust_reviewed)
    plan.targets = _leaves([rev for rev, _ in plan.apply], parents)
    if strict and plan.stop is not None:
        refused = CompatRefused(*plan.stop)
        refused.plan = plan
        raise refused
    return plan


def _parents(rev) -> tuple[str, ...]:
    down = rev.down_revision
    if down is None:
        return ()
    return tuple(down) if isinstance(down, (tuple, list)) else (down,)


def _check_descends(script, blue_head: str, green_head: str | None) -> str:
    """Blue's head as green's history spells it; CompatError when green's head does not descend from it."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        found = script.get_revision(blue_head)
    except (CommandError, RevisionError, KeyError):
        found = None
    if found is None or green_head is None:
        raise CompatError(f"green does not descend from blue's head {blue_head}: green's alembic history has no "
                          f"revision {blue_head}")
    ancestors = {r.revision for r in script.iterate_revisions(green_head, "base")}
    if found.revision not in ancestors:
        raise CompatError(f"green does not descend from blue's head {blue_head}: it is not an ancestor of "
                          f"green's head {green_head}")
    return found.revision


def _decide(plan: GreenPlan, report: Report, config: Config, trust_reviewed: bool) -> None:
    from migrator.lint import DECLARED, check_declared

    first_contract: str | None = None
    for m in report.migrations:
        rev = m.revision or m.source
        classified = Phase.CONTRACT if m.error else m.phase
        phase = m.declared_phase if m.declared_phase is not None else classified
        entry = RevisionPlan(rev, phase, m.declared_phase, classified, m.mixed, "apply")
        plan.revisions.append(entry)
        if plan.stop is not None:
            entry.action = "hold"
            plan.held_back.append((rev, phase.label))
            continue
        declared_early = m.declared_phase in (Phase.EXPAND, Phase.MIGRATE)
        unreadable = any(f.rule == "U000" for f in m.findings) or m.error is not None
        if declared_early and (classified is Phase.CONTRACT or unreadable):
            override = None
            if trust_reviewed and not m.error:
                check_declared(m, config)
                reviewed = [f for f in m.findings if f.rule == DECLARED and f.suppressed]
                if reviewed and not any(f.rule == DECLARED and not f.suppressed for f in m.findings):
                    override = reviewed[0].suppressed
            if override is None:
                mixed = " (mixed: expand and contract statements)" if m.mixed else ""
                reason = (f"revision {rev} is declared {m.declared_phase.label} but classifies contract{mixed}: "
                          f"{_worst(m)}")
                entry.action, entry.note = "stop", reason
                plan.stop = (rev, reason)
                continue
            entry.note = f"declared {m.declared_phase.label}, classified contract; reviewed: {override}"
        if first_contract is not None:
            if phase in (Phase.EXPAND, Phase.MIGRATE):
                reason = (f"contract revision {first_contract} comes before {phase.label} revision {rev}: reorder "
                          f"(contract revisions go after every expand and migrate revision of the release)")
                entry.action, entry.note = "stop", reason
                plan.stop = (rev, reason)
                continue
            entry.action = "hold"
            plan.held_back.append((rev, phase.label))
        elif phase is Phase.CONTRACT:
            first_contract = rev
            entry.action = "hold"
            plan.held_back.append((rev, phase.label))
        else:
            plan.apply.append((rev, phase.label))
    if plan.stop is not None:  # nothing is applied when the check stops
        plan.held_back = [(r.revision, r.phase.label) for r in plan.revisions if r.action != "stop"]
        plan.apply = []
        for r in plan.revisions:
            if r.action == "apply":
                r.action = "hold"


def _worst(m: MigrationReport) -> str:
    """The finding that makes the revision contract: highest severity (U000 first on ties)."""
    if m.error:
        return m.error
    candidates = [(f, s) for s in m.statements if s.phase is Phase.CONTRACT for f in s.findings]
    candidates += [(f, None) for f in m.findings if f.rule == "U000"]
    live = [c for c in candidates if c[0].suppressed is None] or candidates
    if live:
        best = live[0]
        for c in live[1:]:
            if (c[0].severity, c[0].rule == "U000") > (best[0].severity, best[0].rule == "U000"):
                best = c
        finding, stmt = best
        where = f" ({m.source}:{stmt.line})" if stmt is not None else ""
        return f"{finding.rule} {finding.message}{where}"
    stmt = next((s for s in m.statements if s.phase is Phase.CONTRACT), None)
    if stmt is not None:
        sql = " ".join(stmt.sql.split())
        rules = f"{', '.join(stmt.rules)}: " if stmt.rules else ""
        return f"{rules}{sql[:100]}{'...' if len(sql) > 100 else ''} ({m.source}:{stmt.line})"
    return "classified contract"


def _leaves(revisions: list[str], parents: dict[str, tuple[str, ...]]) -> list[str]:
    """The revisions of the list no other one of the list descends from (one for a linear history)."""
    covered: set[str] = set()
    for rev in revisions:
        stack = list(parents.get(rev, ()))
        while stack:
            node = stack.pop()
            if node in covered:
                continue
            covered.add(node)
            stack.extend(parents.get(node, ()))
    return [rev for rev in revisions if rev not in covered]


def apply_plan(project_dir: str | Path, alembic_ini: str | Path, db_url: str, plan: GreenPlan,
               env: Mapping[str, str] | None = None, **kwargs) -> Applied:
    """Upgrade the database (at blue's head) by the plan's applied revisions; refuses a stopped plan."""
    plan.check()
    if not plan.apply:
        return Applied([], [])
    applied = upgrade(project_dir, alembic_ini, db_url, plan.targets, env, role=kwargs.pop("role", "green"),
                      **kwargs)
    expected = [rev for rev, _ in plan.apply]
    if sorted(applied.applied) != sorted(expected):
        raise CompatError(f"green: alembic applied {', '.join(applied.applied) or 'nothing'} where the plan was "
                          f"{', '.join(expected)} (was the database at blue's head {plan.blue_head}?)")
    return applied


def apply_revisions(project_dir: str | Path, alembic_ini: str | Path, db_url: str, revisions: Sequence[str],
                    env: Mapping[str, str] | None = None, **kwargs) -> Applied:
    """Upgrade to the last of `revisions` (to each leaf of them in a branched history), one subprocess."""
    if not revisions:
        return Applied([], [])
    from migrator.alembic_source import load_alembic_config, load_script_directory

    ini = _ini_path(project_dir, alembic_ini, kwargs.get("role"))
    with isolated(project_dir):
        script = load_script_directory(load_alembic_config(str(ini)), str(alembic_ini))
        parents = {rev.revision: _parents(rev) for rev in script.walk_revisions()}
    return upgrade(project_dir, alembic_ini, db_url, _leaves(list(revisions), parents), env, **kwargs)
