"""`migrator plan`: green's revisions per release phase, each statement with lock, table, estimated rows,
rewrite and risk, and the gates ahead.

    heads = live_heads(conn)                                   # alembic_version of the target database
    plan = build_plan(project_dir, "alembic.ini", heads, config, settings, conn=conn, hook_config=hook)
    plan.phases["expand"]                                      # revisions `migrator expand` applies, in order
    plan.to_dict()                                             # the JSON form (migrator.release.render)

Phases follow alembic's order: `expand` applies green's revisions up to the first migrate revision,
`migrate` the rest of what blue can live with (a later expand revision is blue-safe too, but it cannot run
before the migrate revision it follows), `contract` what compat held back (the first contract revision and
all after it). The classification comes from migrator.compat.apply.plan_green, so plan, compat and the
phase commands agree on what runs when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from migrator.durations import short_duration
from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules.p501_missing_lock_timeout import MissingLockTimeout
from migrator.rules.registry import find_rule

PHASES = ("expand", "migrate", "contract")
RISKS = ("low", "medium", "high")
# a table at least this big turns a scan or rewrite under a lock that blocks writes into a risk of its own
BIG_ROWS, HUGE_ROWS = 100_000, 1_000_000
COUNT_LIMIT_BYTES = 8 * 1024 * 1024  # never-analysed tables up to this size are counted instead


@dataclass
class StatementPlan:
    revision: str
    line: int
    sql: str
    phase: str
    lock: str | None
    table: str | None
    rows: int | None  # estimated rows of `table` on the live database; None: unknown or not a table
    rows_source: str | None  # "reltuples" (planner estimate), "count" (small, never-analysed table), None
    rewrite: str
    risk: str  # low | medium | high
    findings: list[dict] = field(default_factory=list)  # unsuppressed: rule, severity, message, fix
    reviewed: list[dict] = field(default_factory=list)  # suppressed with a reason: rule, severity, reason
    preflight: list[dict] = field(default_factory=list)  # live-data counts (migrator.release.preflight)
    handled: list[dict] = field(default_factory=list)  # findings the applier itself takes care of: rule, how
    size_bytes: int | None = None  # the table's heap on the live database (pg_relation_size)
    estimate: dict | None = None  # how long its scan / rewrite / index build / backfill takes (migrator.release.estimate)

    @property
    def shown(self) -> bool:
        """False for statements without schema effect and without findings (BEGIN/COMMIT, SET ...)."""
        return not (self.phase == "none" and self.lock is None and not self.findings and not self.reviewed
                    and not self.preflight and not self.handled)

    def to_dict(self) -> dict:
        return {"revision": self.revision, "line": self.line, "sql": self.sql, "phase": self.phase,
                "lock": self.lock, "table": self.table, "rows": self.rows, "rows_source": self.rows_source,
                "rewrite": self.rewrite, "risk": self.risk, "findings": self.findings, "reviewed": self.reviewed,
                "preflight": self.preflight, "handled": self.handled, "size_bytes": self.size_bytes,
                "estimate": self.estimate}


@dataclass
class RevisionPlanItem:
    revision: str
    phase: str  # the release phase it runs in
    declared: str | None
    classified: str
    risk: str
    statements: list[StatementPlan] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)  # migration-level (mixed, declared phase, ...)

    def to_dict(self) -> dict:
        return {"revision": self.revision, "phase": self.phase, "declared": self.declared,
                "classified": self.classified, "risk": self.risk, "findings": self.findings,
                "statements": [s.to_dict() for s in self.statements]}


@dataclass
class ReleasePlan:
    blue_heads: list[str]
    green_head: str | None
    phases: dict[str, list[str]]  # phase -> revisions in order
    revisions: list[RevisionPlanItem] = field(default_factory=list)
    gates: dict[str, list[str]] = field(default_factory=dict)  # step -> what must hold before it runs
    connected: bool = False  # rows estimated from the live database
    notes: list[str] = field(default_factory=list)
    tables: dict[str, dict] = field(default_factory=dict)  # table -> rows, bytes, total_bytes on the live database
    rates: dict | None = None  # the rates the duration estimates come from (None: no estimate made)

    @property
    def risk(self) -> str:
        return max((r.risk for r in self.revisions), key=RISKS.index, default="low")

    def phase_of(self, revision: str) -> str | None:
        for phase, revs in self.phases.items():
            if revision in revs:
                return phase
        return None

    def ledger_revisions(self) -> dict:
        """What the ledger's releases.revisions keeps."""
        return {"blue_heads": list(self.blue_heads), "green_head": self.green_head,
                **{p: list(self.phases.get(p, [])) for p in PHASES}}

    def to_dict(self) -> dict:
        return {"blue_heads": self.blue_heads, "green_head": self.green_head, "risk": self.risk,
                "phases": {p: [r.to_dict() for r in self.revisions if r.phase == p] for p in PHASES},
                "gates": self.gates, "rows_estimated": self.connected, "notes": self.notes, "tables": self.tables,
                "rates": self.rates}


# --- the live database -----------------------------------------------------------------------------------


def live_heads(conn, version_table: str = "alembic_version") -> list[str]:
    """The alembic revision(s) the database is at, sorted; [] for a database alembic never touched."""
    if conn.execute("SELECT to_regclass(%s)", (version_table,)).fetchone()[0] is None:
        return []
    from psycopg import sql

    rows = conn.execute(sql.SQL("SELECT version_num FROM {}").format(sql.Identifier(version_table))).fetchall()
    return sorted(r[0] for r in rows)


def estimate_rows(conn, tables: set[str]) -> dict[str, tuple[int | None, str | None]]:
    """table name (as the classifier spells it) -> (rows, source) from the live database's catalog:
    pg_class.reltuples, or count(*) for a small table never analysed; (None, None) when it is no table there
    (yet) or the name does not resolve."""
    import psycopg

    from migrator.release.estimate import relation_row

    found: dict[str, tuple[int | None, str | None]] = {}
    for name in sorted(t for t in tables if t):
        row = relation_row(conn, name, "c.oid, c.reltuples, pg_relation_size(c.oid)")
        if row is None:
            found[name] = (None, None)
            continue
        oid, reltuples, size = row
        if reltuples is not None and reltuples >= 0:
            found[name] = (int(reltuples), "reltuples")
        elif size <= COUNT_LIMIT_BYTES:
            try:
                from psycopg import sql

                ident = conn.execute("SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
                                     "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s",
                                     (oid,)).fetchone()[0]
                count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(ident))).fetchone()[0]
                found[name] = (int(count), "count")
            except psycopg.Error:
                found[name] = (None, None)
        else:
            found[name] = (None, None)
    return found


# --- risk ------------------------------------------------------------------------------------------------

_SEVERITY_RISK = {Severity.ERROR: "high", Severity.WARNING: "medium", Severity.INFO: "low"}


def _worse(a: str, b: str) -> str:
    return a if RISKS.index(a) >= RISKS.index(b) else b


def statement_risk(findings, lock: Lock | None, rewrite: Rewrite, rows: int | None) -> str:
    """The classifier's worst unsuppressed finding (error high, warning medium, info low), raised when the
    statement scans or rewrites a big table under a lock that blocks writes."""
    risk = "low"
    for f in findings:
        risk = _worse(risk, _SEVERITY_RISK.get(f.severity, "low"))
    if lock is not None and lock >= Lock.SHARE and rewrite >= Rewrite.SCAN and rows is not None:
        if rows >= HUGE_ROWS:
            risk = _worse(risk, "high")
        elif rows >= BIG_ROWS:
            risk = _worse(risk, "medium")
    return risk


def _finding(f, phase: str | None = None) -> dict:
    """A finding as the plan shows it for the release phase its statement runs in."""
    if phase == "contract" and "blue" in f.message.lower():
        return {"rule": f.rule, "severity": f.severity.label, "message": contract_message(f.rule, f.message),
                "fix": None if f.fix and "blue" in f.fix.lower() else f.fix}
    return {"rule": f.rule, "severity": f.severity.label, "message": f.message, "fix": f.fix}


_CLAUSE = re.compile(r"(; |: |, and |, )")


def contract_message(rule: str, message: str) -> str:
    """`message` up to its first clause about blue, then what must hold at the contract step."""
    parts = _CLAUSE.split(message)
    kept = ""
    for i in range(0, len(parts), 2):
        if "blue" in parts[i].lower():
            break
        kept += parts[i] + (parts[i + 1] if i + 1 < len(parts) else "")
    kept = kept.rstrip(";:, ")
    kept = kept[:-4] if kept.endswith(" and") else kept
    # the classifier speaks from blue's side ("blue still reads and writes it"); by the contract step blue is gone,
    # so the plan says what must be true of the code still running instead: the rule's contract_precondition
    found = find_rule(rule)
    must = (found.contract_precondition if found is not None and found.contract_precondition
            else "no running code may depend on what it removes or changes")
    return f"{kept}; at contract time {must}" if kept else f"at contract time {must}"


def handled_by_applier(f, settings) -> str | None:
    """How the applier itself takes care of a finding (None: it does not, the finding stays a risk)."""
    if f.rule == MissingLockTimeout.id and not settings.no_lock_timeout and settings.lock_timeout_ms > 0:
        return (f"migrator applies each revision with lock_timeout {settings.lock_timeout_ms} ms and up to "
                f"{settings.lock_retries} retries")
    return None


def findings_at(plan: dict, level: str) -> list[dict]:
    """The plan's unsuppressed findings (and failing preflight counts, as errors) at or above `level`
    (`migrator plan --fail-on`)."""
    floor = Severity.parse(level)
    found = []
    for revisions in (plan.get("phases") or {}).values():
        for rev in revisions:
            items = list(rev.get("findings") or [])
            for st in rev.get("statements") or []:
                items += st.get("findings") or []
                items += [{"rule": "preflight", "severity": "error", "message": p["message"]}
                          for p in st.get("preflight") or [] if p.get("fails")]
            found += [{**f, "revision": rev["revision"]} for f in items
                      if Severity.parse(f["severity"]) >= floor]
    return found


# --- phases ----------------------------------------------------------------------------------------------


def split_phases(apply: list[tuple[str, str]], held_back: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Green's (revision, phase label) in upgrade order -> the revisions each phase command applies."""
    phases: dict[str, list[str]] = {p: [] for p in PHASES}
    current = "expand"
    for rev, label in apply:
        if label == "migrate":
            current = "migrate"
        phases[current].append(rev)
    phases["contract"] = [rev for rev, _ in held_back]
    return phases


def gates_ahead(settings, hook_config: dict | None, blue_sha: str | None = None,
                green_sha: str | None = None) -> dict[str, list[str]]:
    """What must hold before each step, as the phase commands will check it."""
    retries = f"lock_timeout {settings.lock_timeout_ms} ms, up to {settings.lock_retries} retries with jittered backoff"
    statement = (f"statement_timeout {settings.statement_timeout_ms} ms" if settings.statement_timeout_ms
                 else "no statement_timeout")
    hook = _hook_label(hook_config)
    shas = ""
    if blue_sha or green_sha:
        shas = f" (blue {(blue_sha or '?')[:8]}, green {(green_sha or '?')[:8]})"
    soak = short_duration(settings.soak_seconds)
    sessions = (f"no session of blue left in pg_stat_activity (application_name = {settings.blue_application_name!r})"
                if settings.blue_application_name else
                "sessions of blue: not checked (set blue_application_name in [tool.migrator.release])")
    return {
        "expand": ["release planned",
                   "compat evidence: cell blue/expanded passed (at least one test, none failed), its blue schema "
                   f"fingerprint equal to the live database's now, blue and green commits equal to the release's{shas}",
                   f"each revision in its own transaction; {retries}; {statement}"],
        "migrate": ["expand done", "backfills in committed batches, resumable from their checkpoint"],
        "switch": ["expand and migrate done",
                   "compat evidence: cells blue/expanded and green/expanded passed, its expanded schema fingerprint "
                   f"equal to the live database's now, blue and green commits equal to the release's{shas}",
                   f"router hook pre-switch check passes ({hook})",
                   "after the switch the hook verifies green serves (fail closed at the deadline)"],
        "contract": ["compat evidence (given, or recorded at the switch): cell green/contracted passed "
                     "(`migrator compat --full`)",
                     f"traffic on green, confirmed by the router hook ({hook})",
                     f"soak {soak} since the switch", "no rollback since the switch", sessions],
    }


def _hook_label(hook_config: dict | None) -> str:
    if not hook_config:
        return "no hook configured: [tool.migrator.hook]"
    kind = hook_config.get("kind", "command")
    command = hook_config.get("command")
    if isinstance(command, list):
        command = " ".join(str(c) for c in command)
    return f"{kind}: {command}" if command else str(kind)




def _preflight(conn, plan: ReleasePlan, settings) -> None:
    """Count, on the live data, the rows that would make each statement fail; a failing count is a high risk."""
    from migrator.release.preflight import preflight

    statements = [(r.revision, s.line, s.sql) for r in plan.revisions for s in r.statements]
    by_place = {(r.revision, s.line, s.sql): s for r in plan.revisions for s in r.statements}
    timeout = getattr(settings, "preflight_timeout_ms", None) or 5000
    found = preflight(conn, statements, timeout_ms=timeout)
    for item in found:
        for (rev, line, sql), st in by_place.items():
            if rev == item.revision and line == item.line:
                st.preflight.append(item.to_dict())
                if item.fails:
                    st.risk = "high"
                break
    for revision in plan.revisions:
        if any(p["fails"] for s in revision.statements for p in s.preflight):
            revision.risk = "high"
    failing = [p for r in plan.revisions for s in r.statements for p in s.preflight if p["fails"]]
    if failing:
        plan.notes.append(f"preflight: {len(failing)} statement(s) would fail on the rows the database has now "
                          "(see `preflight:` under each); fix the data first (a backfill in the migrate phase)")


def _estimator(conn, migrations, tables: set[str], plan: ReleasePlan):
    """statement -> (table heap bytes, estimate dict or None); fills plan.tables and plan.rates. The server's rates
    are timed only when some statement scans, rewrites, builds an index or backfills a table that exists."""
    from migrator.release.estimate import estimate, sample_rates, table_sizes, work_kind

    sizes = table_sizes(conn, tables) if conn is not None and tables else {}
    plan.tables = {name: size.to_dict() for name, size in sizes.items()}

    def kind_of(s) -> str | None:
        return work_kind(s.rewrite.label, s.sql, {f.rule for f in s.findings}) if s.table in sizes else None

    rates = None
    if any(kind_of(s) for m in migrations for s in m.statements):
        rates = sample_rates(conn)
        if rates is None:
            plan.notes.append("durations not estimated: this server would not time a sample (temporary tables)")
    plan.rates = rates.to_dict() if rates is not None else None

    def work(s):
        size = sizes.get(s.table) if s.table else None
        kind = kind_of(s)
        found = estimate(kind, size, rates) if kind else None
        return (size.bytes if size else None), (found.to_dict() if found else None)

    return work


def build_plan(project_dir: str | Path, alembic_ini: str, blue_heads: list[str], config=None, settings=None, *,
               conn=None, hook_config: dict | None = None, blue_sha: str | None = None,
               green_sha: str | None = None, runner=None, knowledge=None, estimates: bool = True) -> ReleasePlan:
    """Classify green's revisions after `blue_heads` (the live database's) and lay them out per phase.
    `conn`: the live database, for row estimates (None: rows unknown); `estimates`: also table sizes and durations
    (the contract gate, which only needs the preflight counts, leaves them out). Raises CompatRefused (exit 1) when
    green's history cannot be released in phases (a contract revision before an expand/migrate one, a
    revision declared expand/migrate that classifies contract) and CompatError (exit 2) for a broken project."""
    from migrator.compat.apply import plan_green
    from migrator.release.settings import ReleaseSettings

    settings = settings or ReleaseSettings()
    green = plan_green(project_dir, alembic_ini, blue_heads, config, runner=runner, knowledge=knowledge)
    phases = split_phases(green.apply, green.held_back)
    plan = ReleasePlan(list(blue_heads), green.green_head, phases, connected=conn is not None)
    plan.gates = gates_ahead(settings, hook_config, blue_sha, green_sha)
    if green.green_head is None or green.green_head == green.blue_head:
        plan.notes.append("nothing to apply: the database is at green's head")
    report = green.report
    migrations = report.migrations if report is not None else []
    tables = {s.table for m in migrations for s in m.statements if s.table}
    rows = estimate_rows(conn, tables) if conn is not None and tables else {}
    work = _estimator(conn if estimates else None, migrations, tables, plan)
    by_rev = {r.revision: r for r in green.revisions}
    for m in migrations:
        rev = m.revision or m.source
        entry = by_rev.get(rev)
        phase = plan.phase_of(rev) or "contract"
        handled = {id(f): how for f in [*m.findings, *(f for s in m.statements for f in s.findings)]
                   if f.suppressed is None and (how := handled_by_applier(f, settings))}
        item = RevisionPlanItem(rev, phase,
                                entry.declared.label if entry and entry.declared is not None else None,
                                entry.classified.label if entry else m.phase.label, "low",
                                findings=[_finding(f, phase) for f in m.findings
                                          if f.suppressed is None and id(f) not in handled])
        if m.error:
            item.findings.append({"rule": "error", "severity": "error", "message": m.error, "fix": None})
        risk = "low"
        for f in m.findings:
            if f.suppressed is None and id(f) not in handled:
                risk = _worse(risk, _SEVERITY_RISK.get(f.severity, "low"))
        if m.error:
            risk = "high"
        for s in m.statements:
            found = [f for f in s.findings if f.suppressed is None and id(f) not in handled]
            count, source = rows.get(s.table, (None, None)) if s.table else (None, None)
            st = StatementPlan(rev, s.line, s.sql, s.phase.label, s.lock.label if s.lock else None, s.table, count,
                               source, s.rewrite.label, statement_risk(found, s.lock, s.rewrite, count),
                               [_finding(f, phase) for f in found],
                               [{"rule": f.rule, "severity": f.severity.label, "reason": f.suppressed}
                                for f in s.findings if f.suppressed is not None],
                               handled=[{"rule": f.rule, "how": handled[id(f)]} for f in s.findings
                                        if id(f) in handled])
            st.size_bytes, st.estimate = work(s)
            risk = _worse(risk, st.risk)
            item.statements.append(st)
        item.risk = risk
        plan.revisions.append(item)
    if conn is not None:
        _preflight(conn, plan, settings)
    if plan.phases["migrate"] and any(plan.phase_of(r.revision) == "migrate" and r.classified == Phase.EXPAND.label
                                      for r in plan.revisions):
        plan.notes.append("expand revisions after the first migrate revision run with `migrator migrate` "
                          "(alembic's order)")
    return plan
