"""The release commands: plan, expand, migrate, switch, rollback, contract, status.

Each takes a ReleaseContext and returns a result dict (rendered by migrator.release.render). Each that
changes something: connect, Ledger.ensure(), take the coordinator lock, load the release, check the state
(a finished command is a no-op), check the gates, do the work, record the new state and an event.

Errors are MigratorError subclasses with their exit code: PreconditionFailed / GateRefused / HookFailed /
CompatRefused (1: the release is not ready; the message names what is missing and the command that does it),
ReleaseError / CoordinatorBusy / UsageError / ConfigError / CompatError (2: usage, config, infrastructure).
No message, result or ledger row holds the database password.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrator.errors import ConfigError, MigratorError, UsageError
from migrator.release import state as st
from migrator.release.errors import GateRefused, HookFailed, PreconditionFailed, ReleaseError

if TYPE_CHECKING:
    from migrator.config import Config
    from migrator.release.coordinator import CoordinatorLock
    from migrator.release.settings import ReleaseSettings

log = logging.getLogger("migrator.release")

URL_ENV = "MIGRATOR_DATABASE_URL"
APPLICATION_NAME = "migrator"
RELEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
COMMANDS = ("plan", "expand", "migrate", "switch", "rollback", "contract", "status")


@dataclass
class ReleaseContext:
    """What a release command is asked to do. Unset fields come from the app's pyproject.toml
    ([tool.migrator], [tool.migrator.release], [tool.migrator.hook]) and the environment."""

    database_url: str | None = None  # None: $MIGRATOR_DATABASE_URL
    project_dir: Path = field(default_factory=Path.cwd)  # green's checkout: alembic.ini, migrations/
    alembic_ini: str | None = None  # None: [tool.migrator] alembic_config, else alembic.ini
    config_path: Path | None = None  # None: <project_dir>/pyproject.toml
    settings: ReleaseSettings | None = None  # None: [tool.migrator.release] + overrides
    overrides: dict = field(default_factory=dict)  # CLI flags over [tool.migrator.release]
    hook_config: dict | None = None  # None: [tool.migrator.hook]
    hook: object | None = None  # a RouterHook instance (takes precedence over hook_config)
    release_id: str | None = None  # None: the release in flight (else the latest)
    force: bool = False
    reason: str | None = None
    wait: float = 0.0  # seconds to wait for the coordinator lock
    # plan
    blue: str | None = None  # git ref of blue (what production runs)
    record: bool = True  # False: only show the plan, write nothing
    # switch / status
    to_color: str = "green"
    evidence: Path | None = None

    # filled by resolve()
    config: Config | None = field(default=None, repr=False)
    _resolved: bool = field(default=False, repr=False)
    # filled by session(): the coordinator lock held for this command (migrator.release.coordinator)
    lock: CoordinatorLock | None = field(default=None, repr=False)

    def resolve(self, *, need_alembic: bool = True) -> "ReleaseContext":
        """Fill the unset fields from the config. `need_alembic=False`: a command that only reads the ledger
        (status) works without alembic.ini."""
        if self._resolved:
            return self
        from migrator.config import Config, load_config
        from migrator.release.settings import settings_from_config

        self.project_dir = Path(self.project_dir).resolve()
        if not self.project_dir.is_dir():
            raise UsageError(f"project folder not found: {self.project_dir}")
        pyproject = Path(self.config_path) if self.config_path else self.project_dir / "pyproject.toml"
        if self.config_path and not pyproject.is_file():
            raise ConfigError(f"config file not found: {pyproject}")
        # read once; the release and hook tables count only from the project's own file
        own = load_config(pyproject) if pyproject.is_file() else None
        self.config = own or load_config(None, start=self.project_dir)
        if self.settings is None:
            self.settings = settings_from_config(own or Config(), self.overrides)
        if self.hook_config is None:
            self.hook_config = own.hook if own else {}
        if self.alembic_ini is None:
            self.alembic_ini = getattr(self.config, "alembic_config", None) or "alembic.ini"
        if need_alembic and not (self.project_dir / self.alembic_ini).is_file():
            raise ConfigError(f"alembic config {self.alembic_ini} not found in {self.project_dir}")
        if self.force and not (self.reason and self.reason.strip()):
            raise UsageError("--force needs --reason TEXT: the reason goes into the ledger with the forced step")
        if getattr(self.settings, "no_lock_timeout", False) and not (self.reason and self.reason.strip()):
            raise UsageError("--no-lock-timeout needs --reason TEXT: DDL then waits for its locks forever, and the "
                             "reason goes into the ledger")
        if self.wait < 0:
            raise UsageError("--wait must be >= 0 seconds")
        self.database_url = self.database_url or os.environ.get(URL_ENV) or None
        self._resolved = True
        return self

    @property
    def release_settings(self) -> ReleaseSettings:
        """`settings` once resolve() has filled them (or the caller gave them)."""
        assert self.settings is not None, "ReleaseContext.resolve() fills settings"
        return self.settings

    @property
    def alembic_config(self) -> str:
        """`alembic_ini` once resolve() has filled it (or the caller gave it)."""
        assert self.alembic_ini is not None, "ReleaseContext.resolve() fills alembic_ini"
        return self.alembic_ini

    @property
    def schema(self) -> str:
        return self.release_settings.ledger_schema


# --- database ----------------------------------------------------------------------------------------------


def libpq_url(url: str) -> str:
    """Any address form -> what psycopg.connect takes (migrator.db.urls; a bad one is exit 2)."""
    from migrator.db.urls import DatabaseURL

    return DatabaseURL.parse(url).libpq()


def safe_url(url: str | None) -> str:
    """The address with its password hidden (shown whole when it has none)."""
    from migrator.db.urls import safe

    return safe(url) if url else ""


def scrub(text: str | BaseException, url: str | None) -> str:
    from migrator.db.urls import scrub as _scrub

    return " ".join(_scrub(str(text), url).split())


def scrub_output(text: str, url: str | None) -> str:
    """A rendered error result with every form of the password hidden, as the stderr line is (results are built
    password-free; an error's message may quote what a driver said)."""
    from migrator.db.urls import scrub as _scrub

    return _scrub(text, url) if url else text


def _database_url(ctx: ReleaseContext) -> str:
    if not ctx.database_url:
        raise UsageError("no target database: pass --database-url or set MIGRATOR_DATABASE_URL")
    return ctx.database_url


def connect(url: str, *, lock_session: bool = False, read_only: bool = False):
    """autocommit psycopg connection; `lock_session`: the one that holds the coordinator lock (TCP keepalives both
    ways, no idle timeout may end it); `read_only`: every transaction of the session is READ ONLY (the gate
    evaluations of `migrator gate` and `migrator serve`: a write is an error, never a change)."""
    import psycopg

    from migrator.release.coordinator import keepalive_options, lock_session_sql

    try:
        conn = psycopg.connect(libpq_url(url), autocommit=True, application_name=APPLICATION_NAME,
                               connect_timeout=10, **(keepalive_options() if lock_session else {}))
        if lock_session:
            for statement in lock_session_sql(conn.info.server_version):
                conn.execute(statement)
        if read_only:
            conn.execute("SET default_transaction_read_only = on")
        return conn
    except psycopg.Error as exc:
        raise ReleaseError(f"cannot connect to {safe_url(url)}: {scrub(exc, url)}") from None


@contextmanager
def session(ctx: ReleaseContext, *, lock: bool = True, ensure: bool = True, command: str | None = None,
            read_only: bool = False):
    """(conn, ledger) on the target database; with `lock`, the coordinator lock is held throughout (ctx.lock) and
    the ledger is verified under it; `read_only` (only without lock and ensure): READ ONLY transactions. psycopg
    errors (database down, connection lost) become ReleaseError (exit 2), password-free."""
    import psycopg

    from migrator.release.coordinator import CoordinatorLock
    from migrator.release.ledger import Ledger

    if read_only and (lock or ensure):
        raise ValueError("a read-only session neither takes the coordinator lock nor creates the ledger")
    url = _database_url(ctx)
    conn = connect(url, lock_session=lock, read_only=read_only)
    try:
        ledger = Ledger(conn, schema=ctx.schema)
        ledger.reopen = lambda: connect(url)
        if ensure:
            ledger.ensure()
        if lock:
            held = CoordinatorLock(conn, ledger if ensure else None, command=command)
            held.acquire(wait=ctx.wait)
            ctx.lock = held
            try:
                if ensure:
                    check_ledger(ledger, command)
                yield conn, ledger
            finally:
                ctx.lock = None
                try:  # unlocking on a connection that just died must not hide what happened
                    held.release()
                except Exception as exc:  # noqa: BLE001
                    log.debug("could not release the coordinator lock: %s", type(exc).__name__)
        else:
            if ensure:
                check_ledger(ledger, command)
            yield conn, ledger
    except psycopg.Error as exc:
        raise ReleaseError(f"database error ({safe_url(url)}): {scrub(exc, url)}") from None
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


def ledger_exists(conn, schema: str) -> bool:
    return conn.execute("SELECT to_regclass(%s)", (f"{_quote(schema)}.releases",)).fetchone()[0] is not None


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def check_ledger(ledger, command: str | None = None) -> None:
    """The ledger must be one this migrator understands, and untampered: its event chain and every release's state
    verify (LedgerTampered, exit 2). A rollback goes on with a warning: sending traffic back to blue is always
    allowed, and it is recorded."""
    from migrator.release.errors import LedgerTampered
    from migrator.release.ledger import LEDGER_VERSION

    rows = ledger.conn.execute(ledger.q("SELECT DISTINCT version FROM {schema}.ledger_meta")).fetchall()
    versions = sorted(r[0] for r in rows)
    if versions != [LEDGER_VERSION]:
        raise ReleaseError(f"the ledger in schema {ledger.schema!r} has version {versions or 'none'}; this migrator "
                           f"knows version {LEDGER_VERSION} (and upgrades version 1): use the migrator that wrote "
                           f"it, or repair {ledger.schema}.ledger_meta")
    chain = ledger.verify()
    if chain.verified:
        return
    message = f"the ledger in schema {ledger.schema!r} was changed outside migrator: {chain.problem}"
    if command == "rollback":
        log.warning("%s; rolling back anyway (traffic back to blue is always allowed)", message)
        return
    raise LedgerTampered(message + "; no command changes a release until it is repaired (`migrator status` shows "
                                   "where the chain breaks)")


def live_fingerprint(conn, ledger_schema: str) -> str:
    """The live database's schema fingerprint as `migrator compat` computes it for its evidence, leaving out
    migrator's own schema (the ledger), which the throwaway database of the compat check does not have."""
    from migrator.db.fingerprint import schema_fingerprint

    return schema_fingerprint(conn, exclude_schema=ledger_schema)


# --- git ---------------------------------------------------------------------------------------------------


@dataclass
class GitInfo:
    repo: Path | None = None
    subdir: str = "."
    sha: str | None = None  # HEAD of the checkout
    ref: str | None = None  # branch name, else "HEAD"
    dirty: bool = False


_pinned: dict[str, tuple[GitInfo, int]] = {}  # checkout -> (what git said, how many pinned_checkout hold it)
_pinned_lock = threading.Lock()


@contextmanager
def pinned_checkout(project_dir: Path):
    """Within it, git_info(project_dir) asks git once: a fleet command runs one phase from one checkout for many
    databases, and four git processes per database cost more than a small phase itself."""
    key = str(Path(project_dir).resolve())
    with _pinned_lock:
        held, count = _pinned.get(key) or (_read_git_info(project_dir), 0)
        _pinned[key] = (held, count + 1)
    try:
        yield
    finally:
        with _pinned_lock:
            held, count = _pinned.pop(key)
            if count > 1:
                _pinned[key] = (held, count - 1)


def git_info(project_dir: Path) -> GitInfo:
    """Where green's checkout stands; an empty GitInfo outside a git repository."""
    pinned = _pinned.get(str(Path(project_dir).resolve())) if _pinned else None
    return pinned[0] if pinned is not None else _read_git_info(project_dir)


def _read_git_info(project_dir: Path) -> GitInfo:
    from migrator.compat import git
    from migrator.compat.errors import CompatError

    try:
        repo = git.repo_root(project_dir)
        subdir = git.project_subdir(repo, Path(project_dir).resolve())
        sha = git.resolve_ref(repo, "HEAD", role="green")
    except CompatError:
        return GitInfo()
    branch = git.current_branch(repo)
    try:
        dirty = git.working_tree_is_dirty(repo, subdir)
    except CompatError:
        dirty = False
    return GitInfo(repo, str(subdir), sha, branch if branch and branch != "HEAD" else "HEAD", dirty)


# --- releases ------------------------------------------------------------------------------------------------


def new_release_id(green_sha: str | None, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"r-{now:%Y%m%d-%H%M%S}-{(green_sha or 'nogit')[:8]}"


def load_release(ledger, ctx: ReleaseContext, command: str):
    """The release `command` works on: --release, else the one in flight, else the latest."""
    if ctx.release_id:
        release = ledger.get(ctx.release_id)
        if release is None:
            raise PreconditionFailed(f"cannot {command}: no release {ctx.release_id!r} in the ledger",
                                     "migrator plan --blue <ref>")
        return release
    release = ledger.in_flight() or ledger.latest()
    if release is None:
        raise PreconditionFailed(f"cannot {command}: no release is planned", "migrator plan --blue <ref>")
    return release


def expected_positions(release) -> tuple[list[str | None], dict[str, tuple[int, int]]]:
    """The release's linear alembic path (blue's head, then each phase's revisions) and, per state, the range of
    positions the database may be at (a phase killed halfway leaves it inside the next range)."""
    revs = release.revisions or {}
    blue = (revs.get("blue_heads") or [None])[0]
    expand, migrate, contract = (list(revs.get(p) or []) for p in ("expand", "migrate", "contract"))
    path = [blue, *expand, *migrate, *contract]
    e, m, c = len(expand), len(migrate), len(contract)
    ranges = {st.PLANNED: (0, e), st.EXPANDED: (e, e + m), st.MIGRATED: (e + m, e + m),
              st.SWITCHING: (e + m, e + m), st.SWITCHED: (e + m, e + m + c), st.ROLLED_BACK: (e + m, e + m),
              st.CONTRACTED: (e + m + c, e + m + c)}
    return path, ranges


def alembic_drift(conn, release) -> str | None:
    """None when the database's alembic revision fits the release's state; else why not (a ledger that no
    longer tells the truth: someone ran alembic by hand, restored a backup, ...)."""
    from migrator.release.plan import live_heads

    heads = live_heads(conn)
    path, ranges = expected_positions(release)
    if len(heads) > 1:
        return f"the database has several alembic heads ({', '.join(heads)})"
    head = heads[0] if heads else None
    low, high = ranges[release.state]
    allowed = path[low:high + 1]
    if head in allowed:
        return None
    where = f"alembic revision {head}" if head else "no alembic revision"
    expected = ", ".join(str(r or "base") for r in allowed)
    return (f"the database is at {where}, but release {release.id} is {release.state!r} and expects "
            f"{'one of ' if len(allowed) > 1 else ''}{expected}: the schema was changed outside migrator "
            "(or the ledger was); check `migrator status` and repair by hand")


def check_alembic(conn, release) -> None:
    problem = alembic_drift(conn, release)
    if problem:
        raise ReleaseError(problem)


def check_checkout(ctx: ReleaseContext, release, command: str) -> None:
    """The phase commands apply revisions from ctx.project_dir: it must be green's checkout."""
    info = git_info(ctx.project_dir)
    if info.sha and release.green_sha and info.sha != release.green_sha:
        raise PreconditionFailed(
            f"cannot {command}: {ctx.project_dir} is at commit {info.sha[:12]}, but release {release.id} is for "
            f"green {release.green_sha[:12]} ({release.green_ref or '?'}); check out green's commit first")


def _result(command: str, release, *, result: str = "ok", previous: str | None = None, message: str = "",
            **extra) -> dict:
    state = release.state if release is not None else None
    out = {"command": command, "result": result, "release_id": release.id if release is not None else None,
           "state": state, "previous_state": previous, "active_color": getattr(release, "active_color", None),
           "next_command": st.NEXT_COMMAND.get(state) if state else "migrator plan --blue <ref>",
           "message": message}
    out.update(extra)
    return out


def _noop(command: str, release) -> dict:
    log.info("%s: release %s is already %s; nothing to do", command, release.id, release.state)
    return _result(command, release, result="noop", previous=release.state,
                   message=f"release {release.id} is already {release.state}: nothing to do")


def _event(ledger, release_id: str, command: str, result: str, detail: dict | None = None, **kwargs) -> None:
    """Record an event (the outcome of a started step, a refusal, ...). When the command's own connection is gone
    (its session was terminated: the coordinator lock with it), the event goes through a fresh connection, so a
    started step still gets its outcome; if that fails too, stderr says so rather than hide the first error."""
    try:
        ledger.event(release_id, command, result, detail, **kwargs)
        return
    except Exception as exc:  # noqa: BLE001
        first = exc
    reopen = getattr(ledger, "reopen", None)
    if reopen is not None and (ledger.conn.closed or ledger.conn.broken):
        try:
            conn = reopen()
            try:
                ledger.event(release_id, command, result, detail, conn=conn, **kwargs)
                return
            finally:
                conn.close()
        except Exception as exc:  # noqa: BLE001
            first = exc
    log.warning("could not record the %s event %r in the ledger: %s", command, result, type(first).__name__)


def _hook(ctx: ReleaseContext):
    if ctx.hook is not None:
        return ctx.hook
    from migrator.routers import get_hook

    base = Path(ctx.config_path).resolve().parent if ctx.config_path else ctx.project_dir
    return get_hook(ctx.hook_config, project_dir=base)


def _hook_deadline(ctx: ReleaseContext) -> float | None:
    from migrator.routers.command import seconds

    value = (ctx.hook_config or {}).get("deadline")
    return seconds(value, "deadline") if value is not None else None


def _signing(ctx: ReleaseContext):
    """The evidence key (from the environment only) and whether the release requires signed evidence."""
    from migrator.evidence import signing_key
    from migrator.release.gates import Signing

    settings = ctx.release_settings
    return Signing(signing_key(settings.evidence_key_env), settings.require_signed_evidence)


def _read_evidence(ctx: ReleaseContext):
    """The evidence file given with --evidence, validated (EvidenceError, exit 2); None when none was given."""
    from migrator.evidence import load_evidence

    return load_evidence(ctx.evidence) if ctx.evidence is not None else None


def _evidence_record(evidence, signing) -> dict | None:
    """What an event row keeps of the evidence: its summary (digest, key id) and whether the signature was
    verified here. The whole document goes only into the releases row, once accepted."""
    if evidence is None:
        return None
    return {**evidence.summary(), "verified": evidence.verify(signing.key).verified}


def stored_evidence_summary(release) -> dict | None:
    """The summary of the evidence the ledger keeps for `release` (None: none; {"error": ...}: not usable)."""
    from migrator.evidence import Evidence, EvidenceError

    if not release.evidence:
        return None
    try:
        return Evidence.from_dict(release.evidence).summary()
    except EvidenceError as exc:
        return {"error": str(exc)}


def _hook_summary(release) -> dict:
    summary = stored_evidence_summary(release)
    return summary if summary and "error" not in summary else {}


def _gate_dict(gate) -> dict:
    if hasattr(gate, "to_dict"):
        return gate.to_dict()
    return {"passed": bool(gate.passed), "reasons": list(gate.reasons)}


# --- plan --------------------------------------------------------------------------------------------------------


def plan(ctx: ReleaseContext) -> dict:
    """Plan green's revisions per phase against the live database and record the release as planned."""
    from migrator.compat import git
    from migrator.release.ledger import Release
    from migrator.release.plan import build_plan, live_heads

    ctx.resolve()
    info = git_info(ctx.project_dir)
    blue_sha = git.resolve_ref(info.repo, ctx.blue, role="blue") if ctx.blue and info.repo else None
    if ctx.blue and info.repo is None:
        raise UsageError(f"--blue {ctx.blue}: {ctx.project_dir} is not in a git repository")

    def build(conn, heads, blue):
        from migrator.classify.catalog import knowledge_from_catalog
        from migrator.runner.project import project_runner
        from migrator.release.applier import release_runner

        # green's code runs in the app's interpreter; the live database's catalog is what the classifier knows
        # of blue's schema (a widening of a column an older release created is a widening)
        runner = (release_runner(ctx.project_dir, ctx.alembic_ini, ctx.database_url, ctx.config) if conn is not None
                  else project_runner(ctx.alembic_ini, ctx.config, project_dir=ctx.project_dir, role="green"))
        knowledge = knowledge_from_catalog(conn, (ctx.schema,)) if conn is not None else None
        with runner:
            return build_plan(ctx.project_dir, ctx.alembic_ini, heads, ctx.config, ctx.settings, conn=conn,
                              hook_config=ctx.hook_config, blue_sha=blue, green_sha=info.sha, runner=runner,
                              knowledge=knowledge)

    def shown(p, release=None, result="ok", message=""):
        extra = {"plan": p.to_dict(), "blue_sha": blue_sha if release is None else release.blue_sha,
                 "green_sha": info.sha if release is None else release.green_sha,
                 "green_ref": info.ref if release is None else release.green_ref,
                 "green_dirty": info.dirty, "recorded": release is not None}
        if release is None:
            return {"command": "plan", "result": result, "release_id": None, "state": None, "previous_state": None,
                    "active_color": None, "next_command": None, "message": message, **extra}
        return _result("plan", release, result=result, message=message, **extra)

    if not ctx.record:
        if ctx.database_url:
            with session(ctx, lock=False, ensure=False) as (conn, _):
                return shown(build(conn, live_heads(conn), blue_sha), message="plan only: nothing recorded")
        if blue_sha is None:
            raise UsageError("plan --no-record needs the live database (--database-url) or --blue REF for the "
                             "revisions blue's schema is at")
        from migrator.compat.apply import alembic_heads
        from migrator.runner.project import project_runner

        assert info.repo is not None  # blue_sha is only resolved in a git repository
        with git.worktree(info.repo, blue_sha, role="blue", subdir=info.subdir) as blue_dir:
            # blue's history, read in the app's interpreter with the app's settings (sqlmodel, Flask-Migrate...)
            with project_runner(ctx.alembic_config, ctx.config, project_dir=blue_dir, role="blue") as blue:
                heads = alembic_heads(blue_dir, ctx.alembic_config, role="blue", runner=blue)
        return shown(build(None, heads, blue_sha), message="plan only: nothing recorded; rows not estimated")

    if ctx.release_id and not RELEASE_ID.fullmatch(ctx.release_id):
        raise UsageError(f"--release {ctx.release_id!r}: use letters, digits, '.', '_' and '-' (up to 100)")
    if info.sha is None:
        raise UsageError(f"{ctx.project_dir} is not in a git repository: the release needs green's commit "
                         "(use --no-record to only show the plan)")
    with session(ctx, command="plan") as (conn, ledger):
        existing = ledger.get(ctx.release_id) if ctx.release_id else None
        in_flight = ledger.in_flight()
        if existing is None and not ctx.release_id:
            candidate = in_flight or ledger.latest()
            if candidate is not None and candidate.green_sha == info.sha:
                existing = candidate  # this green is planned already (or released): show it again
        if existing is not None:
            if in_flight is not None and existing.id != in_flight.id and existing.state != st.CONTRACTED:
                raise ReleaseError(f"ledger inconsistent: {existing.id} and {in_flight.id} are both in flight")
            if existing.green_sha != info.sha:
                raise PreconditionFailed(
                    f"cannot plan: release {existing.id} is for green {str(existing.green_sha)[:12]}, but "
                    f"{ctx.project_dir} is at {info.sha[:12]}; check out that commit or plan a new release id")
            p = build(conn, list(existing.revisions.get("blue_heads") or []), existing.blue_sha)
            recorded = {k: existing.revisions.get(k) or [] for k in ("expand", "migrate", "contract")}
            if {k: p.phases[k] for k in recorded} != recorded:
                raise PreconditionFailed(
                    f"cannot plan: release {existing.id} was recorded with {_phases_text(recorded)}, but the "
                    f"project now plans {_phases_text(p.phases)}; finish that release or plan a new one")
            return shown(p, existing, result="noop",
                         message=f"release {existing.id} is already planned (state {existing.state}): nothing "
                                 "recorded")
        if in_flight is not None:
            raise PreconditionFailed(
                f"cannot plan: release {in_flight.id} is in flight (state {in_flight.state!r}, green "
                f"{str(in_flight.green_sha)[:12]}); finish it or roll it forward first",
                st.NEXT_COMMAND.get(in_flight.state))
        blue_ref = ctx.blue
        if blue_sha is None:
            previous = ledger.latest()
            if previous is None or previous.state != st.CONTRACTED or not previous.green_sha:
                raise UsageError("plan needs --blue REF: the git ref of the version production runs now "
                                 "(the switch gate matches it against the compat evidence)")
            blue_sha, blue_ref = previous.green_sha, previous.green_ref or previous.green_sha[:12]
            log.info("blue = green of the last release %s: %s", previous.id, blue_sha[:12])
        heads = live_heads(conn)
        p = build(conn, heads, blue_sha)
        release_id = ctx.release_id or new_release_id(info.sha)
        release = Release(release_id, st.PLANNED, blue_ref=blue_ref, blue_sha=blue_sha, green_ref=info.ref,
                          green_sha=info.sha, revisions=p.ledger_revisions())
        with conn.transaction():
            release = ledger.create_release(release, {"revisions": p.ledger_revisions(), "risk": p.risk,
                                                      "green_dirty": info.dirty})
        if info.dirty:
            log.warning("green's working tree has uncommitted changes: the release records commit %s",
                        info.sha[:12])
        out = shown(p, release, message=f"release {release.id} planned")
        out["blue_sha"] = blue_sha
        return out


def _phases_text(phases: dict) -> str:
    return "; ".join(f"{k} [{', '.join(phases.get(k) or []) or '-'}]" for k in ("expand", "migrate", "contract"))


# --- expand / migrate / contract ----------------------------------------------------------------------------------


def _apply(ctx: ReleaseContext, conn, ledger, release, phase: str, *, forced: bool = False) -> list[str]:
    """The phase's revisions through the applier, between a `started` event and, on failure, a `failed` one. The
    started event records the lock timeout in force (and a --no-lock-timeout with its reason)."""
    from migrator.release.applier import apply_revisions
    from migrator.release.errors import CoordinatorLost

    revisions = list((release.revisions or {}).get(phase) or [])
    detail: dict = {"revisions": revisions, "lock_timeout_ms": ctx.release_settings.lock_timeout_ms,
                    "lock_retries": ctx.release_settings.lock_retries}
    if ctx.release_settings.no_lock_timeout:
        detail["no_lock_timeout"] = True
        log.warning("%s runs without a lock timeout (--no-lock-timeout: %s): its DDL waits for locks as long as it "
                    "takes, and application queries queue behind it", phase, ctx.reason)
    ledger.event(release.id, phase, "started", detail, forced=forced,
                 reason=ctx.reason if forced or ctx.release_settings.no_lock_timeout else None)
    if revisions:
        log.info("%s: applying %s", phase, ", ".join(revisions))
    else:
        log.info("%s: no %s revisions in this release", phase, phase)
    try:
        applied = apply_revisions(_database_url(ctx), ctx.project_dir, ctx.alembic_config, release, phase, revisions,
                                  ctx.schema, ctx.settings, config=ctx.config, lock=ctx.lock,
                                  wait=ctx.wait)
    except MigratorError as exc:
        _event(ledger, release.id, phase, "failed", {"error": scrub(exc, ctx.database_url),
                                                     "lost_lock": isinstance(exc, CoordinatorLost)})
        raise
    except Exception as exc:
        import psycopg

        if isinstance(exc, psycopg.Error):
            message = scrub(exc, ctx.database_url)
            _event(ledger, release.id, phase, "failed", {"error": message})
            raise ReleaseError(f"{phase} failed: database error: {message}; re-run `migrator {phase}` when the "
                               "database is back (applied revisions are not applied twice)") from None
        raise
    if ctx.lock is not None:
        ctx.lock.check(f"recording {phase} as done")
    return list(applied or [])


def _phase_command(ctx: ReleaseContext, command: str) -> dict:
    ctx.resolve()
    with session(ctx, command=command) as (conn, ledger):
        release = load_release(ledger, ctx, command)
        if st.done(command, release.state):
            return _noop(command, release)
        st.require(command, release.id, release.state)
        check_alembic(conn, release)
        check_checkout(ctx, release, command)
        previous = release.state
        applied = _apply(ctx, conn, ledger, release, command)
        target = st.TRANSITIONS[command][1]
        with conn.transaction():
            ledger.transition(release.id, command, "succeeded", target,
                              detail={"applied": applied, "revisions": release.revisions.get(command) or []},
                              conn=conn)
        release = ledger.get(release.id)
        return _result(command, release, previous=previous, applied=applied,
                       revisions=release.revisions.get(command) or [],
                       message=f"release {release.id} {target}: " +
                               (f"applied {', '.join(applied)}" if applied else "nothing left to apply"))


def expand(ctx: ReleaseContext) -> dict:
    """After the expand gate (blue's suite passed on the expanded schema, the live schema is still blue's), apply
    the release's expand revisions: blue keeps working."""
    ctx.resolve()
    with session(ctx, command="expand") as (conn, ledger):
        release = load_release(ledger, ctx, "expand")
        if st.done("expand", release.state):
            return _noop("expand", release)
        st.require("expand", release.id, release.state)  # the missing step first, then the evidence file
        if ctx.evidence is None and not ctx.force:
            raise UsageError("expand needs --evidence FILE: the evidence JSON of `migrator compat --evidence FILE` "
                             "(blue's suite on the expanded schema)")
        evidence = _read_evidence(ctx)
        check_alembic(conn, release)
        check_checkout(ctx, release, "expand")
        signing = _signing(ctx)
        revisions = list((release.revisions or {}).get("expand") or [])
        gate, live = evaluate_gate("expand", ctx, conn, ledger, release, evidence, signing)
        previous = release.state
        release, applied, forced = _gated_apply(ctx, conn, ledger, release, "expand", gate, evidence, signing,
                                                st.EXPANDED, refused={"live_fingerprint": live},
                                                detail={"revisions": revisions})
        return _result("expand", release, previous=previous, applied=applied, revisions=revisions,
                       gate=_gate_dict(gate), forced=forced,
                       message=f"release {release.id} expanded: " +
                               (f"applied {', '.join(applied)}" if applied else "nothing left to apply"))


def _gated_apply(ctx: ReleaseContext, conn, ledger, release, command: str, gate, evidence, signing, state: str, *,
                 refused: dict, detail: dict):
    """A refused gate is recorded and raised (unless --force, then recorded as forced); else the command's
    revisions are applied and the step recorded with the evidence. Returns (release, applied, forced)."""
    forced = bool(ctx.force and not gate.passed)
    record = _evidence_record(evidence, signing)
    if not gate.passed:
        if not ctx.force:
            _event(ledger, release.id, command, "refused", {"gate": _gate_dict(gate), **refused}, evidence=record)
            raise GateRefused(command, list(gate.reasons))
        log.warning("%s gate refused, forced (%s): %s", command, ctx.reason, "; ".join(gate.reasons))
    applied = _apply(ctx, conn, ledger, release, command, forced=forced)
    with conn.transaction():
        ledger.transition(release.id, command, "succeeded", state,
                          detail={"applied": applied, **detail, "gate": _gate_dict(gate)}, evidence=record,
                          release_evidence=evidence.to_dict() if evidence else None, forced=forced,
                          reason=ctx.reason if forced else None, conn=conn)
    return ledger.get(release.id), applied, forced


def migrate(ctx: ReleaseContext) -> dict:
    """Apply the release's migrate revisions (data changes, batched backfills)."""
    return _phase_command(ctx, "migrate")


def contract(ctx: ReleaseContext) -> dict:
    """After the contract gate (green's suite passed on the contracted schema, traffic on green, soak, no
    rollback, no blue sessions): apply the contract revisions. Blue's schema is gone afterwards: no rollback."""
    ctx.resolve()
    with session(ctx, command="contract") as (conn, ledger):
        release = load_release(ledger, ctx, "contract")
        if st.done("contract", release.state):
            return _noop("contract", release)
        hook = _hook(ctx) if release.state == st.SWITCHING else None
        release = reconcile(ctx, conn, ledger, release, hook, "contract")
        st.require("contract", release.id, release.state)
        check_alembic(conn, release)
        check_checkout(ctx, release, "contract")
        evidence = _read_evidence(ctx)  # None: the evidence the ledger stored at the switch
        hook = hook or _hook(ctx)
        signing = _signing(ctx)
        gate, _ = command_gate("contract", ctx, conn, ledger, release, evidence, signing, hook)
        soak = soak_used(ctx)
        previous = release.state
        release, applied, forced = _gated_apply(ctx, conn, ledger, release, "contract", gate, evidence, signing,
                                                st.CONTRACTED, refused={"soak": soak}, detail={"soak": soak})
        return _result("contract", release, previous=previous, applied=applied, gate=_gate_dict(gate),
                       forced=forced, soak=soak,
                       message=f"release {release.id} contracted: "
                               + (f"applied {', '.join(applied)}" if applied else "nothing left to apply")
                               + f" (soak {_human(soak['seconds'])}, from {soak['from']})")


def soak_used(ctx: ReleaseContext) -> dict:
    """The soak the contract gate applied and where it came from: a `--soak 0` is not an ordinary contract."""
    return {"seconds": float(ctx.release_settings.soak_seconds),
            "from": "--soak" if ctx.overrides.get("soak") is not None else "[tool.migrator.release] soak (or default)"}


def _human(seconds: float) -> str:
    from migrator.release.gates import human_seconds

    return human_seconds(seconds)


def _with_preflight(gate, ctx: ReleaseContext, conn, release):
    """The contract gate plus the live-data preflight of the contract revisions: each restrictive statement's
    failing rows counted now (NULLs before SET NOT NULL, duplicates, orphans, values that do not fit...)."""
    from migrator.classify.catalog import knowledge_from_catalog
    from migrator.release.applier import release_runner
    from migrator.release.gates import FAIL, PASS, Check, GateResult
    from migrator.release.plan import build_plan, live_heads

    contract_revs = set((release.revisions or {}).get("contract") or [])
    if not contract_revs:
        return gate
    with release_runner(ctx.project_dir, ctx.alembic_config, _database_url(ctx), ctx.config) as runner:
        plan = build_plan(ctx.project_dir, ctx.alembic_config, live_heads(conn), ctx.config, ctx.settings, conn=conn,
                          runner=runner, knowledge=knowledge_from_catalog(conn, (ctx.schema,)), estimates=False)
    counts = [(r.revision, s.line, p) for r in plan.revisions if r.revision in contract_revs
              for s in r.statements for p in s.preflight]
    bad = [f"{rev}:{line} {p['message']}" for rev, line, p in counts
           if p["fails"] or (p["count"] is None and not p.get("pending"))]
    if bad:
        check = Check("preflight", FAIL, "contract " + "; ".join(bad))
    else:
        check = Check("preflight", PASS, f"{len(counts)} count(s) on the live data: no contract statement would fail")
    return GateResult.of("contract", list(gate.checks) + [check])


# --- switch / rollback --------------------------------------------------------------------------------------------


def _router_colour(hook) -> str | None:
    """The colour the router says it serves (its `current`), None when it cannot tell."""
    try:
        colour = hook.current()
    except Exception as exc:  # noqa: BLE001 - a router that cannot answer is "unknown", never a colour
        log.warning("the router hook could not say which colour it serves: %s", exc)
        return None
    return colour if colour in ("blue", "green") else None


def reconcile(ctx: ReleaseContext, conn, ledger, release, hook, by: str):
    """A release left 'switching' (a switch or rollback interrupted after the router was asked to move): ask the
    router where traffic is and record that as the outcome of the interrupted step. Unchanged when the router
    cannot tell. Returns the release as it is now."""
    if release.state != st.SWITCHING or hook is None:
        return release
    target, before = release.switching_to, release.switching_from or st.MIGRATED
    step = "rollback" if target == "blue" else "switch"
    observed = _router_colour(hook)
    if observed is None:
        log.warning("release %s is 'switching' (an interrupted %s to %s) and the router cannot say where traffic is",
                    release.id, step, target)
        return release
    if observed == target:
        state = st.SWITCHED if target == "green" else (st.ROLLED_BACK if before == st.SWITCHED else before)
    else:
        state = before
    log.warning("release %s was left 'switching' by an interrupted %s to %s; the router serves %s: recording it "
                "as %s", release.id, step, target, observed, state)
    with conn.transaction():
        ledger.transition(release.id, step, "reconciled", state, active_color=observed,
                          detail={"router": observed, "to_color": target, "from_state": before, "by": by}, conn=conn)
    return ledger.get(release.id)


def switch(ctx: ReleaseContext) -> dict:
    """Move traffic to green once the switch gate passes: expand and migrate done, compat evidence whose blue and
    green cells passed on this schema for these commits, the router's pre-switch check. The intent is journaled
    first (state 'switching'); a failure, Ctrl-C or SIGTERM after the router was asked sends traffic back to blue."""
    from migrator.routers import move_traffic
    from migrator.release.signals import Stopped, stop_on_signals

    if ctx.to_color != "green":
        raise UsageError(f"switch --to {ctx.to_color}: switch moves traffic to green; to send it back to blue "
                         "run `migrator rollback`")
    ctx.resolve()
    if ctx.evidence is None and not ctx.force:
        raise UsageError("switch needs --evidence FILE: the evidence JSON of `migrator compat --evidence FILE`")
    with session(ctx, command="switch") as (conn, ledger):
        release = load_release(ledger, ctx, "switch")
        hook = _hook(ctx) if release.state == st.SWITCHING else None
        release = reconcile(ctx, conn, ledger, release, hook, "switch")
        if st.done("switch", release.state):
            return _noop("switch", release)
        st.require("switch", release.id, release.state)  # the missing step first, then the evidence file
        evidence = _read_evidence(ctx)
        check_alembic(conn, release)
        hook = hook or _hook(ctx)
        signing = _signing(ctx)
        gate, live = command_gate("switch", ctx, conn, ledger, release, evidence, signing, hook)
        forced = bool(ctx.force and not gate.passed)
        record = _evidence_record(evidence, signing)
        summary = evidence.summary() if evidence is not None else {}
        if not gate.passed:
            if not ctx.force:
                _event(ledger, release.id, "switch", "refused", {"gate": _gate_dict(gate), "live_fingerprint": live},
                       evidence=record)
                raise GateRefused("switch", list(gate.reasons))
            log.warning("switch gate refused, forced (%s): %s", ctx.reason, "; ".join(gate.reasons))
        previous = release.state
        before = release.switching_from if release.state == st.SWITCHING else release.state
        assert ctx.lock is not None  # session() holds the coordinator lock for switch
        ctx.lock.check("asking the router to move traffic")
        with conn.transaction():  # the intent first: a crash from here on leaves 'switching', never a silent green
            ledger.transition(release.id, "switch", "started", st.SWITCHING,
                              detail={"gate": _gate_dict(gate), "live_fingerprint": live, "to_color": "green",
                                      "from_state": before},
                              evidence=record, forced=forced, reason=ctx.reason if forced else None,
                              switching=("green", before), conn=conn)
        try:
            with stop_on_signals():
                response = move_traffic(hook, release.id, "green", "blue", "switch", summary, _hook_deadline(ctx),
                                        reason=ctx.reason)
        except HookFailed as exc:
            detail = {"error": str(exc), "calls": getattr(exc, "calls", [])}
            if not getattr(exc, "switch_called", False):  # the router was never asked to move
                with conn.transaction():
                    ledger.transition(release.id, "switch", "failed", before, detail=detail, conn=conn)
                raise
            _event(ledger, release.id, "switch", "failed", detail)
            _send_back(ctx, ledger, release, hook, summary, before, f"switch failed: {exc}", "failed switch")
            raise
        except Stopped as stop:
            _event(ledger, release.id, "switch", "interrupted", {"signal": stop.name})
            back = _send_back(ctx, ledger, release, hook, summary, before, f"switch interrupted by {stop.name}",
                              "interrupted switch")
            from migrator.release.errors import Interrupted

            raise Interrupted(f"switch interrupted by {stop.name}: " + (
                f"traffic is back on blue (confirmed by the router hook); release {release.id} stays {before!r}"
                if back else f"traffic could not be sent back to blue; release {release.id} stays 'switching': run "
                             "`migrator rollback`"), stop.signum) from None
        with conn.transaction():
            # the whole accepted evidence stays with the release: contract and migrator.startup read it later
            ledger.transition(release.id, "switch", "succeeded", st.SWITCHED, active_color="green",
                              detail={"hook": response.to_dict(), "gate": _gate_dict(gate)}, evidence=record,
                              release_evidence=evidence.to_dict() if evidence else None, forced=forced,
                              reason=ctx.reason if forced else None, conn=conn)
        release = ledger.get(release.id)
        return _result("switch", release, previous=previous, gate=_gate_dict(gate), forced=forced,
                       observed=response.observed_color, evidence=record,
                       next_when=contract_possible(ctx, conn, release),
                       message=f"release {release.id} switched: green serves (confirmed by the router hook)")


def contract_possible(ctx: ReleaseContext, conn, release) -> str | None:
    """When a switched release's contract gate can pass its soak: "in 14m (the 15m soak ends at ...)"."""
    if release.state != st.SWITCHED or release.switched_at is None:
        return None
    soak = float(ctx.release_settings.soak_seconds)
    elapsed = float(conn.execute("SELECT extract(epoch FROM clock_timestamp() - %s::timestamptz)",
                                 (release.switched_at,)).fetchone()[0])
    if elapsed >= soak:
        return f"the {_human(soak)} soak has passed: contract once its other checks pass"
    from datetime import timedelta

    ends = (release.switched_at + timedelta(seconds=soak)).astimezone(timezone.utc)
    return f"possible in {_human(soak - elapsed)}, when the {_human(soak)} soak ends ({ends:%Y-%m-%d %H:%M:%S} UTC)"


def evaluate_gate(name: str, ctx: ReleaseContext, conn, ledger, release, evidence, signing, hook=None):
    """(gate result, live fingerprint) of the expand, switch or contract gate, as the command evaluates it:
    `status --evidence` calls this same function with the same inputs, so both say the same."""
    from migrator.release.gates import contract_gate, expand_gate, switch_gate

    live = live_fingerprint(conn, ctx.schema)
    if name == "expand":
        revisions = list((release.revisions or {}).get("expand") or [])
        applied = [r for r in ledger.applied(release.id) if r in revisions]
        return expand_gate(conn, release, evidence, live, applied=applied, signing=signing), live
    if name == "switch":
        return switch_gate(conn, release, evidence, live, hook, signing=signing), live
    settings = ctx.release_settings
    return contract_gate(conn, release, ledger, hook, settings.soak_seconds, settings.blue_application_name,
                         evidence=evidence, live_fingerprint=live, signing=signing), live


def command_gate(name: str, ctx: ReleaseContext, conn, ledger, release, evidence, signing, hook=None):
    """(gate result, live fingerprint) of the switch or contract gate as the command enforces it: evaluate_gate,
    and for contract the live-data preflight of its revisions too. `migrator switch|contract` and `migrator gate`
    (and `migrator serve`, through it) call this one function, so they decide alike."""
    gate, live = evaluate_gate(name, ctx, conn, ledger, release, evidence, signing, hook)
    if name == "contract":
        gate = _with_preflight(gate, ctx, conn, release)
    return gate, live


def _send_back(ctx: ReleaseContext, ledger, release, hook, summary, before: str, why: str, after: str) -> bool:
    """The router was asked to move to green and the switch did not finish: send traffic back to blue (signals
    held meanwhile). Confirmed: the release returns to `before` on blue. Not confirmed: it stays 'switching'."""
    from migrator.routers import rollback_traffic
    from migrator.release.signals import signals_held

    log.warning("%s after the router was asked to move; sending traffic back to blue", why)
    try:
        with signals_held():
            response = rollback_traffic(hook, release.id, summary or {}, _hook_deadline(ctx), reason=why,
                                        failed_phase="switch")
    except HookFailed as exc:
        _event(ledger, release.id, "rollback", "failed", {"error": str(exc), "after": after,
                                                          "calls": getattr(exc, "calls", [])})
        log.error("could not send traffic back to blue: %s; the release stays 'switching': run `migrator rollback`",
                  exc)
        return False
    try:
        with ledger.conn.transaction():
            ledger.transition(release.id, "rollback", "succeeded", before, active_color="blue",
                              detail={"after": after, "hook": response.to_dict()}, reason=why[:500])
    except Exception as exc:  # noqa: BLE001 - traffic is back; the next command reconciles the ledger
        log.warning("traffic is back on blue, but the ledger could not record it (%s): the next command asks the "
                    "router and records it", type(exc).__name__)
    return True


def rollback(ctx: ReleaseContext) -> dict:
    """Send traffic back to blue: from 'switched', from 'switching' (an interrupted switch or rollback), and from
    any state before contract in which the router serves green (or cannot tell). The expand and migrate revisions
    stay. Journaled like a switch ('switching' to blue first)."""
    from migrator.routers import rollback_traffic
    from migrator.release.errors import Interrupted
    from migrator.release.signals import Stopped, stop_on_signals

    ctx.resolve()
    with session(ctx, command="rollback") as (conn, ledger):
        release = load_release(ledger, ctx, "rollback")
        if release.state == st.CONTRACTED:
            st.require("rollback", release.id, release.state)
        hook = _hook(ctx)
        release = reconcile(ctx, conn, ledger, release, hook, "rollback")
        started = contract_started(ledger, release)
        if started:
            raise PreconditionFailed(
                f"cannot roll back: release {release.id}'s contract has started ({started}); blue's schema may "
                "already be gone, so only a roll-forward is possible", "migrator contract")
        observed = None
        if release.state not in (st.SWITCHED, st.SWITCHING):
            observed = _router_colour(hook)
            if observed == "blue" or (observed is None and release.state == st.ROLLED_BACK):
                if release.state == st.ROLLED_BACK:
                    return _noop("rollback", release)
                raise PreconditionFailed(f"cannot roll back: release {release.id} is {release.state!r} and the "
                                         "router serves blue: traffic is not on green")
            log.warning("release %s is %r, but the router %s: sending traffic back to blue", release.id,
                        release.state, "serves green" if observed else "cannot say which colour it serves")
        previous = release.state
        before = release.switching_from if release.state == st.SWITCHING else release.state
        after = st.ROLLED_BACK if before == st.SWITCHED else before
        with conn.transaction():
            ledger.transition(release.id, "rollback", "started", st.SWITCHING,
                              detail={"to_color": "blue", "from_state": before, "router": observed},
                              reason=ctx.reason, switching=("blue", before), conn=conn)
        try:
            with stop_on_signals():
                response = rollback_traffic(hook, release.id, _hook_summary(release), _hook_deadline(ctx),
                                            reason=ctx.reason)
        except HookFailed as exc:
            _event(ledger, release.id, "rollback", "failed", {"error": str(exc), "calls": getattr(exc, "calls", [])},
                   reason=ctx.reason)
            raise
        except Stopped as stop:
            _event(ledger, release.id, "rollback", "interrupted", {"signal": stop.name}, reason=ctx.reason)
            raise Interrupted(f"rollback interrupted by {stop.name}: the router may serve either colour; release "
                              f"{release.id} stays 'switching' until a command asks the router: run `migrator "
                              "rollback` again", stop.signum) from None
        with conn.transaction():
            ledger.transition(release.id, "rollback", "succeeded", after, active_color="blue",
                              detail={"hook": response.to_dict()}, reason=ctx.reason, conn=conn)
        release = ledger.get(release.id)
        return _result("rollback", release, previous=previous, observed=response.observed_color,
                       message=f"release {release.id} rolled back: blue serves (confirmed by the router hook)")


def contract_started(ledger, release) -> str | None:
    """Why the contract counts as started: one of its revisions applied, or a contract that began."""
    contract_revs = set((release.revisions or {}).get("contract") or [])
    done = [r for r in ledger.applied(release.id) if r in contract_revs]
    if done:
        return f"applied {', '.join(done)}"
    for event in reversed(ledger.events(release.id)):
        if event["command"] == "switch" and event["state"] == st.SWITCHED:
            return None
        if event["command"] == "contract" and event["result"] in ("started", "failed"):
            return "a contract run began after the last switch"
    return None


# --- status ------------------------------------------------------------------------------------------------------


def status(ctx: ReleaseContext) -> dict:
    """State, evidence, gates (evaluated, not enforced), applied revisions, recent events, the next command.
    Takes no lock and writes nothing."""
    from migrator.release.ledger import Ledger
    from migrator.release.plan import live_heads

    ctx.resolve(need_alembic=False)
    with session(ctx, lock=False, ensure=False) as (conn, _):
        heads = live_heads(conn)
        base: dict[str, Any] = {"command": "status", "result": "ok", "database": safe_url(ctx.database_url),
                                "alembic_heads": heads, "ledger_schema": ctx.schema}
        if not ledger_exists(conn, ctx.schema):
            return {**base, "release_id": None, "state": None, "active_color": None,
                    "next_command": "migrator plan --blue <ref>", "message": "no ledger yet: no release was planned"}
        ledger = Ledger(conn, schema=ctx.schema)
        chain = _status_ledger(ledger)
        base["ledger"] = chain.to_dict()
        if not chain.verified:
            base["exit_code"] = 2  # the ledger cannot be trusted: as an unknown ledger version or drift, exit 2
        if ctx.release_id:
            release = ledger.get(ctx.release_id)
            if release is None:
                raise PreconditionFailed(f"no release {ctx.release_id!r} in the ledger")
        else:
            release = ledger.in_flight() or ledger.latest()
        if release is None:
            return {**base, "release_id": None, "state": None, "active_color": None,
                    "next_command": "migrator plan --blue <ref>", "message": "no release was planned"}
        applied = ledger.applied(release.id)
        events = ledger.events(release.id)
        revs = release.revisions or {}
        phases = {p: [{"revision": r, "applied": r in applied} for r in revs.get(p) or []]
                  for p in ("expand", "migrate", "contract")}
        out: dict[str, Any]
        out = {**base, "release_id": release.id, "state": release.state, "active_color": release.active_color,
               "blue": {"ref": release.blue_ref, "sha": release.blue_sha},
               "green": {"ref": release.green_ref, "sha": release.green_sha},
               "phases": phases, "evidence": stored_evidence_summary(release),
               "timestamps": {k: getattr(release, k).isoformat() if getattr(release, k) else None
                              for k in ("created_at", "updated_at", "switched_at", "rolled_back_at",
                                        "contracted_at")},
               "drift": alembic_drift(conn, release), "gates": {},
               "events": events[-10:], "next_command": st.NEXT_COMMAND.get(release.state),
               "next_when": contract_possible(ctx, conn, release), "message": ""}
        if release.state == st.SWITCHING:  # asked, not recorded: the next command that takes the lock records it
            out["switching"] = {"to_color": release.switching_to, "from_state": release.switching_from,
                                "router": _status_router(ctx)}
        out["gates"] = _status_gates(ctx, conn, ledger, release)
        if not chain.verified:
            out.update(exit_code=2, message=f"the ledger was changed outside migrator: {chain.problem}")
        return out


def _status_router(ctx: ReleaseContext) -> str | None:
    if not (ctx.hook or ctx.hook_config):
        return None
    try:
        return _router_colour(_hook(ctx))
    except MigratorError:
        return None


def _status_ledger(ledger):
    """The ledger's version and chain as status shows them: version 1 is reported (the next command that takes
    the lock upgrades it), an unknown version is an error, a broken chain is shown (and status exits 2)."""
    from migrator.release.ledger import KNOWN_VERSIONS

    version = ledger.version()
    if version not in KNOWN_VERSIONS:
        raise ReleaseError(f"the ledger in schema {ledger.schema!r} has version {[version] if version else 'none'}; "
                           f"this migrator knows versions {', '.join(map(str, KNOWN_VERSIONS))}")
    return ledger.verify()


def _status_gates(ctx: ReleaseContext, conn, ledger, release) -> dict:
    """The gate in front of the next step, evaluated by the same function the command calls, with the same
    evidence, key and settings (nothing is enforced or recorded)."""
    if release.state == st.EXPANDED:
        return {"switch": {"passed": False, "evaluated": False, "reasons": ["migrate not done yet"]}}
    if release.state == st.CONTRACTED:
        return {}
    name = {st.PLANNED: "expand", st.SWITCHED: "contract"}.get(release.state, "switch")
    if ctx.evidence is None and name != "contract":  # contract falls back on the evidence recorded at the switch
        return {name: {"passed": False, "evaluated": False,
                       "reasons": [f"give --evidence FILE to evaluate the {name} gate"]}}
    try:
        hook = _hook(ctx) if name != "expand" else None
        gate, _ = evaluate_gate(name, ctx, conn, ledger, release, _read_evidence(ctx), _signing(ctx), hook)
    except MigratorError as exc:
        return {name: {"passed": False, "evaluated": False, "reasons": [str(exc)]}}
    return {name: {**_gate_dict(gate), "evaluated": True}}


# --- dispatch ------------------------------------------------------------------------------------------------------


def run(command: str, ctx: ReleaseContext) -> dict:
    """The release command named `command` (the fleet runner runs a phase by name)."""
    table = {"plan": plan, "expand": expand, "migrate": migrate, "switch": switch, "rollback": rollback,
             "contract": contract, "status": status}
    if command not in table:
        raise UsageError(f"unknown release command {command!r}")
    return table[command](ctx)
