"""Classify the statements of one migration: the core every input goes through."""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TypedDict, Unpack

from sqlglot import exp

from migrator.config import Config
from migrator.errors import InputError
from migrator.model import Finding, MigrationReport, StatementReport
from migrator.phases import Phase, Rewrite
from migrator.rules import (CLASSIFY, WHOLE, Context, Hit, Migration, MigrationRule, Rule, RuleConfig, SchemaKnowledge,
                            table_name)
from migrator.rules.n404_no_schema_effect import NoSchemaEffect
from migrator.rules.registry import all_rules, known_rule, run_migration_rules
from migrator.rules.u000_unclassified import Unclassified
from migrator.classify.spool import StatementSpool
from migrator.sql.plpgsql import MAX_DEPTH, is_do
from migrator.sql.split import Statement, iter_statements
from migrator.rules.suppress import Suppression, find_suppressions
from migrator.classify.facts import observe


class Dispatch:
    """Which rules read which statements, computed once per rule set."""

    def __init__(self, rules: Sequence[Rule]):
        self.by_node: dict[type, list[Rule]] = {}
        self.command_rules: list[Rule] = [r for r in rules if r.commands]
        self.every: list[Rule] = [r for r in rules if r.every]
        self._node_rules = [r for r in rules if r.nodes]
        self._cache: dict[type, list[Rule]] = {}

    def for_statement(self, stmt: Statement) -> list[Rule]:
        chosen: list[Rule] = []
        if stmt.is_command:
            words = stmt.words
            chosen = [r for r in self.command_rules if any(words[: len(p)] == p for p in r.commands)]
        else:
            cls = type(stmt.node)
            chosen = self._cache.get(cls)  # type: ignore[assignment]
            if chosen is None:
                chosen = [r for r in self._node_rules if issubclass(cls, r.nodes)]
                self._cache[cls] = chosen
        return chosen + self.every if self.every else chosen


_DISPATCH: Dispatch | None = None


def dispatch() -> Dispatch:
    global _DISPATCH
    if _DISPATCH is None:
        _DISPATCH = Dispatch(all_rules())
    return _DISPATCH


class ClassifyOptions(TypedDict, total=False):
    """classify_sql()'s keywords (classify_stream() has them too, plus `spool`)."""

    extra_suppressions: Iterable[Suppression]
    skip: Callable[[Statement], bool] | None
    in_transaction: bool
    knowledge: SchemaKnowledge | None


def classify_sql(text: str, source: str = "<sql>", config: Config | None = None,
                 **options: Unpack[ClassifyOptions]) -> MigrationReport:
    """Classify one migration's SQL text. Bad SQL becomes U000 findings; unreadable text raises InputError.

    `in_transaction`: the text runs inside a transaction opened by the caller (alembic's transactional DDL).
    `knowledge`: what earlier migrations of the same run established about the schema (validated NOT NULL
    checks, column types, ...); read at the start and updated at the end, so pass one object per ordered run.
    The report's statements are a list; classify_stream() keeps memory bounded instead.
    """
    report = classify_stream(text, source, config, spool=StatementSpool(limit=1 << 62), **options)
    report.statements = list(report.statements)
    return report


def classify_stream(
    text: str,
    source: str = "<sql>",
    config: Config | None = None,
    *,
    extra_suppressions: Iterable[Suppression] = (),
    skip: Callable[[Statement], bool] | None = None,
    in_transaction: bool = False,
    knowledge: SchemaKnowledge | None = None,
    spool: StatementSpool | None = None,
) -> MigrationReport:
    """classify_sql(), statement by statement: each statement's tree is dropped once its report is made, and
    the reports go to a StatementSpool (memory up to its limit, then a temporary file). The returned report's
    `statements` is that spool: iterate it to render (late findings and suppressions are applied as it goes)."""
    config = config or Config()
    report = MigrationReport(source=source)
    suppressions = find_suppressions(text) + list(extra_suppressions)
    report.suppressions = suppressions
    ctx = Context(settings=config.settings)
    if knowledge is not None:
        knowledge.load_into(ctx)
    if in_transaction:
        ctx.in_transaction, ctx.transaction_depth = True, 1
    d = dispatch()
    spool = spool if spool is not None else StatementSpool()
    starts, ends = array("q"), array("q")  # where each statement is, for the suppression comments
    phases: set[Phase] = set()
    tables: set[str] = set()
    data, data_rules, seen = False, _data_rules(), 0
    for stmt in iter_statements(text, source):
        seen += 1
        if skip is not None and skip(stmt):
            continue
        hits = _run_rules(d.for_statement(stmt), stmt, ctx)
        statement = _statement_report(stmt, hits, config)
        spool.append(statement)
        starts.append(stmt.start)
        ends.append(stmt.end)
        phases.add(statement.phase)
        if statement.table and statement.phase is not Phase.NONE:
            tables.add(statement.table)
        if not data and statement.phase is Phase.MIGRATE and not data_rules.isdisjoint(statement.rules):
            data = True
        if is_do(stmt.words):  # a DO block that adds a column and backfills it mixes phases like two statements
            phases.update(h.phase for h in hits)
            data = data or any(h.phase is Phase.MIGRATE and h.rule.id in data_rules for h in hits)
        observe(ctx, stmt, hits)
    # an empty or comment-only file is a migration with no statements: phase none, nothing to report
    if in_transaction and ctx.transaction_depth > 0:  # the caller commits the transaction it opened
        ctx.transaction_depth -= 1
        ctx.in_transaction = ctx.transaction_depth > 0
    report.statements = spool
    _finish_migration(report, ctx, config, spool, phases, data)
    facts = Migration(report, config, phases=frozenset(phases), data=data, tables=frozenset(tables),
                      statements=len(starts), suppressions=tuple(suppressions))
    report.findings.extend(migration_findings(CLASSIFY, facts))
    apply_suppressions(report, spool, starts, ends, suppressions, text)
    spool.seal()
    if knowledge is not None:
        knowledge.save_from(ctx)
    return report


def _run_rules(rules: list[Rule], stmt: Statement, ctx: Context) -> list[Hit]:
    """Classifying rules first; then context rules, which see those hits in ctx.current_hits."""
    hits = _classify(rules, stmt, ctx, 0)
    ctx.current_hits = hits
    # a DO block's inner statements met the context rules already, each with its own hits
    context_rules = [] if stmt.is_command and is_do(stmt.words) else [rule for rule in rules if not rule.classifies]
    for rule in context_rules:
        _check(rule, stmt, ctx, hits)
    return hits


def _classify(rules: list[Rule], stmt: Statement, ctx: Context, depth: int) -> list[Hit]:
    """The classifying rules' hits, or a DO block's inner statements' hits; U000 for what none claims."""
    if stmt.is_command and is_do(stmt.words) and depth <= MAX_DEPTH:
        return _do_block(stmt, ctx, depth)
    hits: list[Hit] = []
    for rule in rules:
        if rule.classifies:
            _check(rule, stmt, ctx, hits)
    unclaimed = known_rule(Unclassified).unclaimed(stmt, hits)
    if unclaimed is not None:
        unclaimed.table = _table_of(stmt)
        hits.append(unclaimed)
    return hits


def _do_block(stmt: Statement, ctx: Context, depth: int) -> list[Hit]:
    """A DO block: each statement and expression of its body classified like a top-level statement (see
    migrator.sql.plpgsql); the block holds every hit, each message and line pointing at its line in the file."""
    from migrator.sql.plpgsql import Unreadable, read_do  # pglast is imported only when a DO block is met

    u000 = known_rule(Unclassified)
    try:
        block = read_do(stmt.sql, stmt.line)
    except Unreadable as exc:
        return [u000.unread(f"DO block not read ({exc.why})", line=exc.line)]
    except Exception as exc:  # a reader bug (or a body nested too deeply) must not stop the run: fail closed
        return [u000.unread(f"DO block not read (reader failed: {type(exc).__name__})")]
    hits: list[Hit] = []
    d = dispatch()
    # The block runs in one transaction (its locks are held to its end), and it is one statement of the
    # migration: statement indexes the context records (foreign keys, ...) are the block's.
    saved = ctx.in_transaction, ctx.transaction_depth, ctx.statements_seen
    ctx.in_transaction, ctx.transaction_depth = True, ctx.transaction_depth + 1
    try:
        for item in block.items:
            if item.sql is None:
                hits.append(u000.unread(f"{item.why}", line=item.line))
                continue
            try:
                inner = list(iter_statements(item.sql))
            except InputError as exc:
                hits.append(u000.unread(f"SQL not read ({exc})", line=item.line))
                continue
            for part in inner:
                rules = d.for_statement(part)
                found = _classify(rules, part, ctx, depth + 1)
                ctx.current_hits = found
                if not is_do(part.words):
                    for rule in rules:
                        if not rule.classifies:
                            _check(rule, part, ctx, found)
                nested = part.is_command and is_do(part.words)
                for h in found:
                    if nested:  # a DO inside EXECUTE: its lines count in the string, so point at the EXECUTE
                        h.message = _LINE.sub("", h.message, count=1)
                    elif h.rule.id == Unclassified.id:
                        h.message = f"`{_short(part.sql)}`: {h.message}"
                    h.message, h.line, h.action = f"line {item.line}: {h.message}", item.line, WHOLE
                hits.extend(found)
                if item.commit:  # COMMIT inside the block: what the transaction held is released
                    _end_transaction(ctx)
                else:
                    ctx.statements_seen = saved[2]
                    observe(ctx, part, found)
    finally:
        ctx.in_transaction, ctx.transaction_depth, ctx.statements_seen = saved
    if not ctx.transactional:  # the block was a transaction of its own: its locks are released at its end
        _end_transaction(ctx)
    if not hits:
        hits.append(known_rule(NoSchemaEffect).empty_do_block())
    return hits


_LINE = re.compile(r"line \d+: ")


def _end_transaction(ctx: Context) -> None:
    ctx.exclusive_in_transaction.clear()
    ctx.not_valid_in_transaction.clear()
    ctx.altered_tables.clear()
    ctx.transaction_number += 1


def _short(sql: str, width: int = 60) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 3] + "..."


def _check(rule: Rule, stmt: Statement, ctx: Context, hits: list[Hit]) -> None:
    try:
        hits.extend(rule.check(stmt, ctx))
    except RecursionError:
        stmt.error = stmt.error or "statement nested too deeply to analyse"
    except Exception as exc:  # a rule bug must not hide the other findings; the statement fails closed
        stmt.error = f"rule {rule.id} failed on this statement ({type(exc).__name__})"
        if rule.classifies:
            hits.clear()


def _table_of(stmt: Statement) -> str | None:
    node = stmt.node
    if node is None or isinstance(node, exp.Command):
        return None
    target = node.this if isinstance(node, (exp.Alter, exp.Create, exp.Update, exp.Delete, exp.Insert)) else None
    if isinstance(target, exp.Index):
        target = target.args.get("table")
    if isinstance(node, exp.Drop) and node.args.get("tables"):
        # only a dropped relation names a table; a function, type or index name is not one
        kind = (node.args.get("kind") or "").upper()
        target = node.args["tables"][0] if kind in ("TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE") else None
    try:
        return table_name(target)
    except Exception:
        return None


def _statement_report(stmt: Statement, hits: list[Hit], config: Config) -> StatementReport:
    phase = max((h.phase for h in hits), default=Phase.CONTRACT)
    locks = [h.lock for h in hits if h.lock is not None]
    table = next((h.table for h in hits if h.table), None) or _table_of(stmt)
    findings = []
    for h in hits:
        severity = config.severity.get(h.rule.id, h.severity)
        if severity is None or h.rule.id in config.disable:
            continue
        findings.append(Finding(h.rule.id, h.rule.name, severity, h.message, h.fix, line=h.line))
    return StatementReport(
        line=stmt.line,
        column=stmt.column,
        sql=stmt.sql,
        phase=phase,
        lock=max(locks) if locks else None,
        table=table,
        rewrite=max((h.rewrite for h in hits), default=Rewrite.NONE),
        findings=findings,
        rules=sorted({h.rule.id for h in hits}),
    )


def _finish_migration(report: MigrationReport, ctx: Context, config: Config, spool: StatementSpool,
                      phases: set[Phase], data: bool) -> None:
    for rule in all_rules():
        finish = getattr(rule, "finish", None)
        if finish is not None:
            for stmt_index, hit in finish(ctx, report):
                finding = _finding(hit, config)
                if finding is None:
                    continue
                if stmt_index is None:
                    report.findings.append(finding)
                else:
                    spool.attach(stmt_index, finding)
    set_migration_phase(report, config, phases, data)


def migration_findings(stage: str, migration: Migration) -> list[Finding]:
    """The findings of the migration-level rules of `stage` (see migrator.rules.MigrationRule)."""
    found = (_finding(hit, migration.config) for hit in run_migration_rules(stage, migration))
    return [f for f in found if f is not None]


def _finding(hit: Hit, config: RuleConfig) -> Finding | None:
    """A late hit as a finding, with the project's severity; None when the rule is disabled or only classifies."""
    severity = config.severity.get(hit.rule.id, hit.severity)
    if severity is None or hit.rule.id in config.disable:
        return None
    return Finding(hit.rule.id, hit.rule.name, severity, hit.message, hit.fix)


@lru_cache(maxsize=1)
def _data_rules() -> frozenset[str]:
    return frozenset(r.id for r in all_rules() if r.changes_data)


def set_migration_phase(report: MigrationReport, config: Config, phases: set[Phase] | None = None,
                        data: bool | None = None) -> None:
    """Phase = the highest statement phase; expand+contract or data+schema is mixed (P505 reports it, run with
    the other migration-level rules).

    `phases` and `data` (a migrate statement changes data) when known already; else read from the statements."""
    if phases is None or data is None:
        phases = {s.phase for s in report.statements}
        # Only a data change mixes with DDL; VALIDATE CONSTRAINT (migrate) belongs with the contract it prepares.
        data = any(s.phase is Phase.MIGRATE and any(r in _data_rules() for r in s.rules) for s in report.statements)
    phases = set(phases)
    if report.error:
        phases.add(Phase.CONTRACT)
    report.phase = max(phases, default=Phase.NONE)
    schema = phases & {Phase.EXPAND, Phase.CONTRACT}
    report.mixed = schema == {Phase.EXPAND, Phase.CONTRACT} or (data and bool(schema))


def apply_suppressions(report: MigrationReport, spool: StatementSpool, starts: array, ends: array,
                       suppressions: list[Suppression], text: str) -> None:
    """Hand each ignore comment with a reason to the statements it covers (applied as the spool is read) and
    apply it to the migration's findings (a comment without a reason is P508's)."""
    if not suppressions:
        return
    covered, fixed = _comment_scopes()
    for order, sup in enumerate(suppressions):
        if sup.reason is None:
            continue
        if sup.whole_file or not starts:
            spool.suppress(None, order, sup)
            extra = report.findings
        else:
            idx = _statement_for(starts, ends, sup.offset, text)
            if idx is not None:
                spool.suppress(idx, order, sup)
            # a statement's comment reaches the migration's findings when it names a rule that lets it (P505)
            extra = report.findings if any(sup.matches(r.id, r.name) for r in covered) else []
        for f in extra:
            if f.suppressed is None and f.rule not in fixed and sup.matches(f.rule, f.name):
                f.suppressed = sup.reason


@lru_cache(maxsize=1)
def _comment_scopes() -> tuple[tuple[MigrationRule, ...], frozenset[str]]:
    """The migration-level rules a statement's ignore comment covers, and the ids no comment silences."""
    rules = [r for r in all_rules() if isinstance(r, MigrationRule)]
    return (tuple(r for r in rules if r.statement_comment_covers),
            frozenset(r.id for r in rules if not r.suppressible))


def _statement_for(starts: array, ends: array, offset: int, text: str) -> int | None:
    """The statement a comment at `offset` covers: the one it is in, the one on whose last line it stands
    (a trailing comment), else the next one."""
    after = bisect_right(starts, offset)  # the first statement that starts after the comment
    if after:
        before = after - 1
        if offset < ends[before] or text.find("\n", ends[before], offset) == -1:
            return before
    return after if after < len(starts) else None
