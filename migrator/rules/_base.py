"""What a rule is, what it returns, and the per-migration context it reads.

A rule looks at one statement (and the context of the statements before it in
the same migration) and returns `Hit`s. Every hit classifies part of the
statement (phase, lock, rewrite); a hit whose severity is not None is also
reported as a finding. An ALTER TABLE action, or the whole statement, that no
rule claims is reported as U000 (unclassified, contract): unknown SQL is never
assumed safe.

A `MigrationRule` looks at a whole migration instead, once its statements are
classified (mixed phases, ignore comments) or once its declared phase is read
(`migrator lint`), and returns `Hit`s that become the migration's findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from sqlglot import exp

from migrator.settings import Settings
from migrator.model import MigrationReport
from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.sql.split import Statement
from migrator.rules.suppress import Suppression

WHOLE = -1  # hit.action for a hit about the whole statement


@dataclass
class Hit:
    rule: "Rule"
    phase: Phase
    severity: Severity | None
    lock: Lock | None
    rewrite: Rewrite
    table: str | None
    message: str
    fix: str | None
    action: int = WHOLE
    line: int | None = None  # set for a statement inside a DO block: its line in the file


class Rule:
    """Base class; subclasses set the class attributes and implement `check`.

    The class docstring is the rule's documentation and must have the sections
    "## What it does", "## Why is this bad?" and "## Use instead".
    """

    id: str = ""
    name: str = ""
    phase: Phase = Phase.CONTRACT
    severity: Severity | None = Severity.WARNING
    lock: Lock | None = None
    rewrite: Rewrite = Rewrite.NONE
    fix: str | None = None
    url: str | None = None  # a plug-in rule's page (migrator's own rules link to docs/rules/<id>.md)
    #: a contract rule's condition on the code still running when the change is made (blue is gone by then):
    #: the release plan says it at the contract step, instead of the finding's clause about blue
    contract_precondition: str | None = None
    #: sqlglot node classes whose statements this rule reads; empty = none
    nodes: tuple[type[exp.Expr], ...] = ()
    #: first words of exp.Command / unparsed statements this rule reads, e.g. ("ALTER", "TABLE")
    commands: tuple[tuple[str, ...], ...] = ()
    #: read every statement (context rules)
    every: bool = False
    #: hits classify the statement (count as understanding it); False for advice-only context rules
    classifies: bool = True
    #: the rule classifies data changes (a migration mixing them with DDL is mixed)
    changes_data: bool = False

    def check(self, stmt: Statement, ctx: "Context") -> Iterable[Hit]:
        raise NotImplementedError

    def hit(
        self,
        message: str,
        *,
        table: str | None = None,
        action: int = WHOLE,
        phase: Phase | None = None,
        severity: Severity | None | str = "default",
        lock: Lock | None | str = "default",
        rewrite: Rewrite | None = None,
        fix: str | None = None,
        line: int | None = None,
    ) -> Hit:
        return Hit(
            rule=self,
            phase=self.phase if phase is None else phase,
            severity=self.severity if severity == "default" else severity,  # type: ignore[arg-type]
            lock=self.lock if lock == "default" else lock,  # type: ignore[arg-type]
            rewrite=self.rewrite if rewrite is None else rewrite,
            table=table,
            message=message,
            fix=fix if fix is not None else self.fix,
            action=action,
            line=line,
        )


CLASSIFY, LINT = "classify", "lint"  # MigrationRule.stage


class RuleConfig(Protocol):
    """What rules read of the configuration (migrator.config.Config has it)."""

    settings: Settings
    severity: dict[str, Severity]
    disable: set[str]


@dataclass
class Migration:
    """What a migration-level rule reads. At the lint stage only `report` and `config` are filled: the
    statements were classified earlier (possibly in another process)."""

    report: MigrationReport  # source, revision, phase, mixed, declared_phase, error, the findings so far
    config: RuleConfig
    phases: frozenset[Phase] = frozenset()  # the phases of its statements (and of the parts of its DO blocks)
    data: bool = False  # a statement changes data (a migrate-phase rule with `changes_data` matched)
    tables: frozenset[str] = frozenset()  # the tables its statements of a phase other than none name
    statements: int = 0  # how many statements were classified
    suppressions: tuple[Suppression, ...] = ()  # its ignore comments, with or without a reason


class MigrationRule(Rule):
    """Base class of a rule about a whole migration; subclasses set the class attributes and implement
    `check_migration`, which yields `self.hit(message)` once per finding. Statements are not dispatched to it.

    The class docstring is the rule's documentation, with the same sections as a statement rule's.
    """

    phase = Phase.NONE
    classifies = False
    #: CLASSIFY: run on every migration once its statements are classified (classify, lint, compat, plan);
    #: LINT: run once its declared phase is read (`migrator lint`, compat's plan), to compare the two
    stage: str = CLASSIFY
    #: an ignore comment on any statement of the migration covers its findings (else only a whole-file one)
    statement_comment_covers: bool = False
    #: an ignore comment can silence its findings (False for findings about ignore comments)
    suppressible: bool = True

    def check(self, stmt: Statement, ctx: "Context") -> Iterable[Hit]:
        return ()

    def check_migration(self, migration: Migration) -> Iterable[Hit]:
        raise NotImplementedError


@dataclass
class Context:
    """What the statements before the current one, in the same migration, did."""

    settings: Settings = field(default_factory=Settings)
    in_transaction: bool = False
    transaction_depth: int = 0
    lock_timeout_set: bool = False
    created_tables: set[str] = field(default_factory=set)
    # (table, column) pairs known NOT NULL, and those with a validated CHECK (col IS NOT NULL)
    not_null_columns: set[tuple[str, str]] = field(default_factory=set)
    not_null_checks: set[tuple[str, str]] = field(default_factory=set)
    # (table, column) pairs that a CHECK constraint reads
    checked_columns: set[tuple[str, str]] = field(default_factory=set)
    # constraint name -> table, for NOT VALID constraints added in this migration's open transaction
    not_valid_in_transaction: dict[str, str] = field(default_factory=dict)
    # tables locked ACCESS EXCLUSIVE in the open transaction, with the statement line that did it
    exclusive_in_transaction: dict[str, int] = field(default_factory=dict)
    altered_tables: dict[str, int] = field(default_factory=dict)
    # (table, columns) of foreign keys and of indexes seen in this migration
    foreign_keys: list[tuple[str, tuple[str, ...], int]] = field(default_factory=list)
    indexed: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    # (table, column) -> declared type, from CREATE TABLE / ADD COLUMN / ALTER COLUMN TYPE in this migration
    column_types: dict[tuple[str, str], exp.DataType] = field(default_factory=dict)
    # NOT VALID CHECK (col IS NOT NULL) constraints not validated yet: name -> (table, column)
    pending_not_null_checks: dict[str, tuple[str, str]] = field(default_factory=dict)
    statements_seen: int = 0
    ddl_seen: bool = False
    # hits of the classifying rules on the current statement (for context rules)
    current_hits: list = field(default_factory=list)
    # line of the first DDL statement that ran without lock_timeout, once reported
    lock_timeout_reported: bool = False
    # the transaction the statement runs in: (migration_number, transaction_number); see migrator.rules.trigger_fills
    migration_number: int = 0
    transaction_number: int = 0
    # BEFORE INSERT trigger functions -> the NEW columns they assign; (table, trigger) -> function
    fill_functions: dict[str, frozenset[str]] = field(default_factory=dict)
    fill_triggers: dict[tuple[str, str], str] = field(default_factory=dict)
    # (table, column) -> the DroppedFill of a trigger that kept it filled and is gone
    dropped_fills: dict[tuple[str, str], object] = field(default_factory=dict)
    relaxed_columns: set[tuple[str, str]] = field(default_factory=set)  # DROP NOT NULL seen
    column_defaults: set[tuple[str, str]] = field(default_factory=set)  # a DEFAULT seen
    # table -> {policy name: "all" (permissive, admits every row to every role), "some" or "restrictive"}
    policies: dict[str, dict[str, str]] = field(default_factory=dict)
    # function (unqualified, folded) -> the triggers and views that call it ("trigger t on users", "view v")
    function_users: dict[str, set[str]] = field(default_factory=dict)

    def is_new_table(self, table: str | None) -> bool:
        return table is not None and table_key(table) in self.created_tables

    @property
    def transactional(self) -> bool:
        return self.in_transaction or (self.settings.assume_in_transaction and self.transaction_depth == 0)


def table_key(name: str) -> str:
    """Compare tables by unqualified, case-folded name."""
    return name.rsplit(".", 1)[-1].strip('"').lower()


def table_name(node: exp.Expr | None) -> str | None:
    """Dotted name of an exp.Table (or the table inside a Schema)."""
    if node is None:
        return None
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Table):
        parts = [p.name for p in (node.args.get("catalog"), node.args.get("db"), node.this) if p is not None]
        return ".".join(parts) if parts else None
    if isinstance(node, exp.Identifier):
        return node.name
    return getattr(node, "name", None) or None


class SchemaKnowledge:
    """Facts about the schema that outlive one migration, carried through an ordered run of migrations.

    Only facts that stay true after COMMIT: validated NOT NULL checks, NOT NULL columns, columns a CHECK
    reads, column types, the triggers that fill columns (and those dropped). Whether a table is new, locks
    and transactions stay per migration.
    """

    FIELDS = ("not_null_checks", "not_null_columns", "checked_columns", "column_types", "fill_functions",
              "fill_triggers", "dropped_fills", "relaxed_columns", "column_defaults", "policies",
              "function_users")

    def __init__(self) -> None:
        self.facts: dict[str, object] = {}
        self.migrations = 0  # migrations of the run so far: each one runs in transactions of its own

    def load_into(self, ctx: Context) -> None:
        for name in self.FIELDS:
            if name in self.facts:
                value = self.facts[name]
                setattr(ctx, name, _copy(value))
        ctx.migration_number = self.migrations

    def save_from(self, ctx: Context) -> None:
        for name in self.FIELDS:
            self.facts[name] = _copy(getattr(ctx, name))
        self.migrations += 1


def _copy(value):
    # one level deeper for dicts of dicts and sets (policies per table, function users):
    # a later migration must not change what an earlier one saw
    if isinstance(value, dict):
        return {k: (v.copy() if isinstance(v, (dict, set)) else v) for k, v in value.items()}
    return value.copy()
