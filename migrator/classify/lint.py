"""Declared phases: read them, and check them against the classification (`migrator lint`).

A migration declares the phase it is meant to run in:

- a SQL file with a `-- migrator: phase expand` comment;
- an alembic revision with a module-level `phase = "expand"`, or the branch label
  `expand` / `migrate` / `contract` (its own, or the one of the branch it is on),
  read by migrator.classify.alembic_source.

An invalid declaration (`phase = "expnad"`, two different phases) is reported as a
P507 finding on the migration. A declaration the classification disagrees with is
P507 too; `migrator lint` fails on it (and on P505, mixed) unless a
`migrator: ignore P507 reason: ...` comment covers it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migrator.config import Config
from migrator.model import Finding, MigrationReport
from migrator.phases import Phase
from migrator.rules import LINT, Hit, Migration
from migrator.rules.p505_mixed_migration import MixedMigration
from migrator.rules.p507_declared_phase_mismatch import DeclaredPhaseMismatch
from migrator.rules.registry import known_rule, run_migration_rules
from migrator.rules.u000_unclassified import Unclassified
from migrator.rules.suppress import Suppression

DECLARED = DeclaredPhaseMismatch.id
UNCLASSIFIED = Unclassified.id
LINT_FAILS = frozenset({MixedMigration.id, DECLARED})  # `migrator lint` fails on these whatever their severity
PHASE_NAMES = ("expand", "migrate", "contract")

_MIGRATOR = re.compile("migrator:", re.IGNORECASE)
_SQL_PHASE = re.compile(r"--[ \t]*migrator:[ \t]*phase\b[ \t]*(?P<value>[^\s;]*)", re.IGNORECASE)


def parse_phase(value: object) -> Phase:
    """`expand`, `migrate` or `contract` (any case) as a Phase; ValueError with a readable message otherwise."""
    if isinstance(value, str) and value.strip().lower() in PHASE_NAMES:
        return Phase.parse(value)
    raise ValueError(f"invalid declared phase {value!r} (expected {', '.join(PHASE_NAMES[:-1])} or {PHASE_NAMES[-1]})")


def sql_declared_phase(text: str) -> tuple[Phase | None, str | None]:
    """The phase a `-- migrator: phase <phase>` comment declares: (phase, None), (None, error) or (None, None)."""
    if _MIGRATOR.search(text) is None:  # fast path for large files
        return None, None
    found: dict[Phase, int] = {}
    for m in _SQL_PHASE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        try:
            found.setdefault(parse_phase(m.group("value")), line)
        except ValueError as exc:
            return None, f"line {line}: `-- migrator: phase`: {exc}"
    if len(found) > 1:
        listed = ", ".join(f"{p.label} (line {n})" for p, n in found.items())
        return None, f"declares more than one phase: {listed}"
    return next(iter(found), None), None


def declare(migration: MigrationReport, phase: Phase | None, error: str | None, config: Config) -> None:
    """Record a declared phase on the migration, or report the invalid declaration as P507."""
    if error is not None:
        add_hit(migration, known_rule(DeclaredPhaseMismatch).invalid(error), config)
    elif phase is not None:
        migration.declared_phase = phase


def apply_sql_declaration(migration: MigrationReport, text: str, config: Config) -> None:
    phase, error = sql_declared_phase(text)
    declare(migration, phase, error, config)


def add_hit(migration: MigrationReport, hit: Hit, config: Config) -> Finding | None:
    """Append a migration-level rule's hit as a finding (config severity and `disable` respected, suppressions
    applied)."""
    rule = hit.rule
    severity = config.severity.get(rule.id, hit.severity)
    if severity is None or rule.id in config.disable:
        return None
    finding = Finding(rule.id, rule.name, severity, hit.message, hit.fix)
    suppress(finding, migration.suppressions)
    migration.findings.append(finding)
    return finding


def suppress(finding: Finding, suppressions: Iterable[Suppression]) -> None:
    """Mark the finding suppressed when an ignore comment with a reason names its rule."""
    for sup in suppressions:
        if sup.reason and sup.matches(finding.rule, finding.name):
            finding.suppressed = sup.reason
            return


def unreadable(migration: MigrationReport) -> bool:
    """True when the migration's SQL could not be obtained at all (a migration-level U000)."""
    return any(f.rule == UNCLASSIFIED for f in migration.findings)


def check_declared(migration: MigrationReport, config: Config) -> None:
    """Run the lint-stage migration rules (P507: the declared phase disagrees with the classification, and
    plug-ins'); idempotent."""
    for hit in run_migration_rules(LINT, Migration(migration, config, suppressions=tuple(migration.suppressions))):
        add_hit(migration, hit, config)
