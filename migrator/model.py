"""Results of classification: plain data, rendered by migrator.report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from migrator.phases import Lock, Phase, Rewrite, Severity


@dataclass
class Finding:
    rule: str
    name: str
    severity: Severity
    message: str
    fix: str | None = None
    suppressed: str | None = None  # the reason given in a `migrator: ignore` comment
    line: int | None = None  # a statement inside a DO block: its own line in the file

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.label,
            "message": self.message,
            "fix": self.fix,
        }
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass
class StatementReport:
    line: int
    column: int
    sql: str
    phase: Phase
    lock: Lock | None
    table: str | None
    rewrite: Rewrite
    findings: list[Finding] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # every rule that matched, findings or not

    def to_dict(self) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "sql": self.sql,
            "phase": self.phase.label,
            "lock": self.lock.label if self.lock else None,
            "table": self.table,
            "rewrite": self.rewrite.label,
            "findings": [f.to_dict() for f in self.findings if f.suppressed is None],
        }

    def to_record(self) -> tuple:
        """Plain values only (for marshal): see migrator.classify.spool."""
        return (self.line, self.column, self.sql, int(self.phase), int(self.lock) if self.lock else 0, self.table,
                int(self.rewrite), tuple((f.rule, f.name, int(f.severity), f.message, f.fix, f.suppressed, f.line)
                                         for f in self.findings), tuple(self.rules))

    @classmethod
    def from_record(cls, record: tuple) -> "StatementReport":
        line, column, sql, phase, lock, table, rewrite, findings, rules = record
        return cls(line, column, sql, Phase(phase), Lock(lock) if lock else None, table, Rewrite(rewrite),
                   [Finding(r, n, Severity(sev), m, fix, sup, line) for r, n, sev, m, fix, sup, line in findings], list(rules))


class StatementSequence(Protocol):
    """Statement reports read back in order (migrator.classify.spool.StatementSpool keeps them on disk)."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator["StatementReport"]: ...
    def __getitem__(self, index: int) -> "StatementReport": ...


@dataclass
class MigrationReport:
    source: str
    phase: Phase = Phase.NONE
    mixed: bool = False
    declared_phase: Phase | None = None
    # a list, or while the report is rendered from classify_stream() the spool it reads back (iterate it)
    statements: list[StatementReport] | StatementSequence = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # migration-level (mixed, declared phase, errors)
    error: str | None = None
    revision: str | None = None
    # the `migrator: ignore` comments that apply (read by checks that run after classification)
    suppressions: list = field(default_factory=list, repr=False, compare=False)

    def all_findings(self) -> list[Finding]:
        found = [f for s in self.statements for f in s.findings]
        found.extend(self.findings)
        return [f for f in found if f.suppressed is None]

    def to_dict(self) -> dict:
        data = {
            "source": self.source,
            "phase": self.phase.label,
            "mixed": self.mixed,
            "declared_phase": self.declared_phase.label if self.declared_phase is not None else None,
            "statements": [s.to_dict() for s in self.statements],
            "findings": [f.to_dict() for f in self.findings if f.suppressed is None],
        }
        if self.revision is not None:
            data["revision"] = self.revision
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclass
class Report:
    migrations: list[MigrationReport] = field(default_factory=list)

    def findings(self) -> list[Finding]:
        return [f for m in self.migrations for f in m.all_findings()]

    def worst(self) -> Severity | None:
        found = self.findings()
        return max((f.severity for f in found), default=None)

    def summary(self) -> dict:
        return Summary.of(self).to_dict()

    def to_dict(self) -> dict:
        return {
            "version": 1,
            "migrations": [m.to_dict() for m in self.migrations],
            "summary": self.summary(),
        }


class Summary:
    """Counts over the migrations of a run, added up as they go by (a streamed report has no Report object)."""

    def __init__(self) -> None:
        self.migrations = self.statements = self.mixed = self.errors = 0
        self.phases = {p.label: 0 for p in Phase}
        self.findings = {s.label: 0 for s in Severity}
        self.rules: set[str] = set()  # rules of the active (unsuppressed) findings
        self.worst: Severity | None = None

    @classmethod
    def of(cls, report: Report) -> "Summary":
        summary = cls()
        for m in report.migrations:
            for s in m.statements:
                summary.add_statement(s)
            summary.add_migration(m)
        return summary

    def add_statement(self, statement: StatementReport) -> None:
        self.statements += 1
        self._count(statement.findings)

    def add_migration(self, migration: MigrationReport) -> None:
        """After its statements: the migration itself and its migration-level findings."""
        self.migrations += 1
        self.phases[migration.phase.label] += 1
        self.mixed += migration.mixed
        self.errors += migration.error is not None
        self._count(migration.findings)

    def _count(self, findings: list[Finding]) -> None:
        for f in findings:
            if f.suppressed is None:
                self.findings[f.severity.label] += 1
                self.rules.add(f.rule)
                if self.worst is None or f.severity > self.worst:
                    self.worst = f.severity

    def to_dict(self) -> dict:
        return {
            "migrations": self.migrations,
            "statements": self.statements,
            "phases": dict(self.phases),
            "mixed": self.mixed,
            "errors": self.errors,
            "findings": dict(self.findings),
        }
