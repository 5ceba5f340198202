"""Alembic for `migrator compat`: heads, green's plan, and `alembic upgrade` on the throwaway database.

    with open_runner(blue_dir, "alembic.ini", env, role="blue") as blue:      # the app's interpreter
        heads = alembic_heads(blue_dir, runner=blue)                         # offline, no database
        upgrade(blue_dir, "alembic.ini", db.url, "heads", runner=blue)       # ONLINE through env.py
    plan = plan_green(green_dir, "alembic.ini", heads, config, runner=green, knowledge=blue_catalog)
    apply_plan(green_dir, "alembic.ini", db.url, plan, runner=green)         # expand + migrate, contract held back

All project code runs in a migrator.runner child in the app's own interpreter (`--python`, `[tool.migrator]
python`, $VIRTUAL_ENV, <project>/.venv, else migrator's). The child's environment (`env`: the database
rendered for the app by migrator.runner.appenv) is fixed when it starts, because apps read their settings at
import: a runner serves the database its environment names. Without `runner=`, each call starts its own.

A revision that raises is RevisionFailed(revision, first error line) (exit 1); anything else that stops
alembic (env.py, the app factory, an unreachable database, a timeout) is CompatError (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from migrator.compat.errors import CompatError, CompatRefused, RevisionFailed
from migrator.config import Config
from migrator.errors import MigratorError
from migrator.model import Finding, MigrationReport, Report, StatementReport
from migrator.phases import Phase
from migrator.runner import ProjectError, ProjectRunner


def _ini_path(project_dir: str | Path, alembic_ini: str | Path, role: str | None) -> Path:
    path = Path(alembic_ini)
    if not path.is_absolute():
        path = Path(project_dir) / path
    if not path.is_file():
        who = f"{role}: " if role else ""
        raise CompatError(f"{who}alembic config {alembic_ini} not found in {project_dir}")
    return path.resolve()


def _prefixed(role: str | None, exc: MigratorError) -> CompatError:
    text = str(exc)
    if role and not text.startswith(f"{role}: "):
        text = f"{role}: {text}"
    return CompatError(text)


def open_runner(project_dir: str | Path, alembic_ini: str | Path = "alembic.ini", env: Mapping[str, str] | None = None,
                *, role: str | None = None, **options) -> ProjectRunner:
    """A (not yet started) runner for the project; `options`: python, app, script_location, echo, secrets, timeout."""
    ini = _ini_path(project_dir, alembic_ini, role)
    return ProjectRunner(project_dir, alembic_ini=str(ini), env=env, role=role, **options)


def secrets_for(url: str | None, env: Mapping[str, str] | None = None) -> list[str]:
    """What must never be shown: the URL's password and the renderings holding it, and secret variables."""
    from migrator.runner.appenv import secret_names
    from migrator.db.urls import DatabaseURL

    found: set[str] = set()
    if url:
        try:
            found.update(DatabaseURL.parse(url).secret_strings())
        except MigratorError:
            found.add(url)
    env = dict(env or {})
    for key in secret_names(env, url):
        value = env[key]
        if len(value) >= 4:
            found.add(value)
    return sorted(found, key=len, reverse=True)


@contextmanager
def _using(runner: ProjectRunner | None, project_dir, alembic_ini, env=None, role=None, url=None
           ) -> Iterator[ProjectRunner]:
    if runner is not None:
        yield runner
        return
    with open_runner(project_dir, alembic_ini, env, role=role, secrets=secrets_for(url, env)) as made:
        yield made


# --- heads -----------------------------------------------------------------------------------------------


def alembic_heads(project_dir: str | Path, alembic_ini: str | Path = "alembic.ini", *, role: str | None = None,
                  runner: ProjectRunner | None = None) -> list[str]:
    """The head revision(s) of the project's alembic history, sorted; read from the files, no database."""
    try:
        with _using(runner, project_dir, alembic_ini, role=role) as child:
            return sorted(child.history().heads)
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

    def to_dict(self) -> dict:
        return {"targets": self.targets, "applied": self.applied, "duration": round(self.duration, 3)}


def _targets(target: str | Sequence[str]) -> list[str]:
    items = target.split() if isinstance(target, str) else [str(t) for t in target]
    if not items:
        raise CompatError("alembic upgrade: no target revision")
    return items


def _failure(exc: ProjectError, role: str | None) -> CompatError:
    who = f"{role} " if role else ""
    message = str(exc)
    if role and message.startswith(f"{role}: "):
        message = message[len(role) + 2:]
    if exc.kind == "revision" and exc.revision:
        return RevisionFailed(exc.revision, message, role=role, statement=exc.statement)
    if exc.kind == "before":
        return CompatError(f"alembic upgrade of the {who}revisions failed before any revision ran: {message}")
    if exc.kind == "timeout":
        return CompatError(f"alembic upgrade of the {who}revisions timed out after {exc.extra.get('timeout'):g}s")
    return CompatError(f"alembic upgrade of the {who}revisions failed: {message}")


def upgrade(project_dir: str | Path, alembic_ini: str | Path, db_url: str, target: str | Sequence[str] = "heads",
            env: Mapping[str, str] | None = None, *, role: str | None = None, timeout: float | None = None,
            runner: ProjectRunner | None = None) -> Applied:
    """`alembic upgrade <target>` ONLINE against `db_url` through the project's env.py, in the app's interpreter.

    `target`: a revision id, `heads`, or several ids (upgraded one after the other). `env`: variables for env.py
    (e.g. DATABASE_URL rendered by migrator.runner.appenv); None means {"DATABASE_URL": db_url}, so that an env.py
    reading DATABASE_URL never falls back to one inherited from the caller. With `runner`, its environment must
    already name `db_url`.
    """
    import time

    targets = _targets(target)
    if runner is None:
        _ini_path(project_dir, alembic_ini, role)
    extra = dict(env) if env is not None else {"DATABASE_URL": db_url}
    started = time.perf_counter()
    try:
        with _using(runner, project_dir, alembic_ini, extra, role, db_url) as child:
            if timeout is not None and child.timeout is None:
                child.timeout = timeout
            applied = child.upgrade(db_url, targets)
    except ProjectError as exc:
        raise _failure(exc, role) from None
    except MigratorError as exc:
        raise _prefixed(role, exc) from None
    return Applied(targets, applied, time.perf_counter() - started)


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
               config: Config | None = None, *, strict: bool = True, trust_reviewed: bool = True,
               runner: ProjectRunner | None = None, knowledge=None) -> GreenPlan:
    """Classify green's revisions after blue's head and decide which to apply.

    Applied in order: expand, migrate and none revisions. The first contract revision and all after it
    are held back. The check stops at a contract revision followed by an expand/migrate one, and at a
    revision declared expand/migrate that classifies contract (also mixed, or U000), named with its
    worst finding: CompatRefused (exit 1; `exc.plan` is the plan) unless `strict=False`, which returns
    the plan with `plan.stop` set (`plan.check()` raises then). `trust_reviewed` (default): apply such a
    revision anyway when its P507 (declared phase mismatch) is suppressed with a reason: the team reviewed
    it, and the compat check is what proves it (blue's suite runs on the schema with it applied).

    `knowledge`: what is known of blue's schema (migrator.classify.catalog.knowledge_from_catalog on blue's real
    database), so that e.g. a widening of a column an older revision created is known to be a widening.
    Blue's head missing from green's history, or several heads on either side: CompatError (exit 2).
    """
    from migrator.classify.alembic_source import classify_revisions

    config = config or Config()
    if isinstance(blue_heads, str):
        blue_heads = [blue_heads]
    blue_head = single_head(list(blue_heads or []), "blue")
    if runner is None:
        _ini_path(green_dir, alembic_ini, "green")
    try:
        with _using(runner, green_dir, alembic_ini, role="green") as child:
            history = child.history()
            green_head = single_head(sorted(history.heads), "green")
            if blue_head is not None:
                blue_head = _check_descends(history, blue_head, green_head)
            plan = GreenPlan(blue_head, green_head)
            if green_head is None or green_head == blue_head:
                return plan
            report = classify_revisions(str(alembic_ini), f"{blue_head or 'base'}:{green_head}", config,
                                        runner=child, knowledge=knowledge)
    except CompatError:
        raise
    except MigratorError as exc:
        raise _prefixed("green", exc) from None
    plan.report = report
    _decide(plan, report, config, trust_reviewed)
    plan.targets = history.leaves([rev for rev, _ in plan.apply])
    if strict and plan.stop is not None:
        refused = CompatRefused(*plan.stop)
        refused.plan = plan
        raise refused
    return plan


def resolve_revision(history, ident: str) -> str | None:
    """The full id of `ident` in the history (an exact id, or a unique prefix of one)."""
    if ident in history.revisions:
        return ident
    found = [rev for rev in history.revisions if rev.startswith(ident)]
    return found[0] if len(found) == 1 else None


def _check_descends(history, blue_head: str, green_head: str | None) -> str:
    """Blue's head as green's history spells it; CompatError when green's head does not descend from it."""
    found = resolve_revision(history, blue_head)
    if found is None or green_head is None:
        raise CompatError(f"green does not descend from blue's head {blue_head}: green's alembic history has no "
                          f"revision {blue_head}")
    if found not in history.ancestors([green_head]):
        raise CompatError(f"green does not descend from blue's head {blue_head}: it is not an ancestor of "
                          f"green's head {green_head}")
    return found


def _decide(plan: GreenPlan, report: Report, config: Config, trust_reviewed: bool) -> None:
    from migrator.classify.lint import DECLARED, UNCLASSIFIED, check_declared

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
        declared = m.declared_phase
        unreadable = any(f.rule == UNCLASSIFIED for f in m.findings) or m.error is not None
        if declared in (Phase.EXPAND, Phase.MIGRATE) and (classified is Phase.CONTRACT or unreadable):
            override = None
            if trust_reviewed and not m.error:
                check_declared(m, config)
                reviewed = [f for f in m.findings if f.rule == DECLARED and f.suppressed]
                if reviewed and not any(f.rule == DECLARED and not f.suppressed for f in m.findings):
                    override = reviewed[0].suppressed
            if override is None:
                mixed = " (mixed: expand and contract statements)" if m.mixed else ""
                reason = (f"revision {rev} is declared {declared.label} but classifies contract{mixed}: "
                          f"{_worst(m)}")
                entry.action, entry.note = "stop", reason
                plan.stop = (rev, reason)
                continue
            entry.note = f"declared {declared.label}, classified contract; reviewed: {override}"
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
    candidates: list[tuple[Finding, StatementReport | None]] = [
        (f, s) for s in m.statements if s.phase is Phase.CONTRACT for f in s.findings]
    from migrator.classify.lint import UNCLASSIFIED

    candidates += [(f, None) for f in m.findings if f.rule == UNCLASSIFIED]
    live = [c for c in candidates if c[0].suppressed is None] or candidates
    if live:
        best = live[0]
        for c in live[1:]:
            if (c[0].severity, c[0].rule == UNCLASSIFIED) > (best[0].severity, best[0].rule == UNCLASSIFIED):
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
                    env: Mapping[str, str] | None = None, *, runner: ProjectRunner | None = None, **kwargs) -> Applied:
    """Upgrade to the last of `revisions` (to each leaf of them in a branched history)."""
    if not revisions:
        return Applied([], [])
    with _using(runner, project_dir, alembic_ini, env if env is not None else {"DATABASE_URL": db_url},
                kwargs.get("role"), db_url) as child:
        leaves = child.history().leaves(list(revisions))
        return upgrade(project_dir, alembic_ini, db_url, leaves, env, runner=child, **kwargs)
