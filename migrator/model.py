"""Results of classification: plain data, rendered by migrator.report."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.phases import Lock, Phase, Rewrite, Severity


@dataclass
class Finding:
    rule: str
    name: str
    severity: Severity
    message: str
    fix: str | None = None
    suppressed: str | None = None  # the reason given in a `migrator: ignore` comment

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.label,
            "message": self.message,
            "fix": self.fix,
        }


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


@dataclass
class MigrationReport:
    source: str
    phase: Phase = Phase.NONE
    mixed: bool = False
    declared_phase: Phase | None = None
    statements: list[StatementReport] = field(default_factory=list)
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
        by_phase = {p.label: 0 for p in Phase}
        by_severity = {s.label: 0 for s in Severity}
        statements = 0
        for m in self.migrations:
            by_phase[m.phase.label] += 1
            statements += len(m.statements)
        for f in self.findings():
            by_severity[f.severity.label] += 1
        return {
            "migrations": len(self.migrations),
            "statements": statements,
            "phases": by_phase,
            "mixed": sum(1 for m in self.migrations if m.mixed),
            "errors": sum(1 for m in self.migrations if m.error),
            "findings": by_severity,
        }

    def to_dict(self) -> dict:
        return {
            "version": 1,
            "migrations": [m.to_dict() for m in self.migrations],
            "summary": self.summary(),
        }
