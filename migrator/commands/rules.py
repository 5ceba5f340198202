"""`migrator rules`: every rule with its id, name, phase and severity."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RuleRow:
    rule: str
    name: str
    phase: str
    severity: str | None


@dataclass
class RulesResult:
    rules: list[RuleRow]
    exit_code = 0
    complaint = None


def rules() -> RulesResult:
    from migrator.rules.registry import all_rules

    return RulesResult([RuleRow(r.id, r.name, r.phase.label, r.severity.label if r.severity else None)
                        for r in all_rules()])
