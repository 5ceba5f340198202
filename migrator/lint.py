"""The pre-merge check: a revision's declared phase must agree with its classification."""

from __future__ import annotations

from migrator.config import Config
from migrator.model import Finding, MigrationReport
from migrator.phases import Phase
from migrator.rules.registry import find_rule

DECLARED = "P507"


def check_declared(migration: MigrationReport, config: Config) -> None:
    declared = migration.declared_phase
    if declared is None or migration.error or DECLARED in config.disable:
        return
    actual = migration.phase
    if actual is Phase.NONE or actual == declared or migration.mixed:
        return  # a mixed migration already has its own finding
    rule = find_rule(DECLARED)
    if actual > declared:
        message = f"declared {declared.label}, but its statements are {actual.label}"
    else:
        message = f"declared {declared.label}, but classified {actual.label}: it could run in an earlier phase"
    finding = Finding(rule.id, rule.name, config.severity.get(rule.id, rule.severity), message,
                      f"move the change to a {actual.label} revision, or fix the declared phase")
    for sup in getattr(migration, "suppressions", ()):
        if sup.reason and sup.matches(rule.id, rule.name):
            finding.suppressed = sup.reason
    migration.findings.append(finding)
