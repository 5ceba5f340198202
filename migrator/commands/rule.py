"""`migrator rule ID`: one rule explained: phase, severity, lock, why, the safe alternative, examples, its page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migrator.errors import UsageError


@dataclass
class RuleRequest:
    rule_id: str  # an id or a name: C317, drop-column
    config_path: str | None = None
    rules_url: str | None = None


@dataclass
class RuleResult:
    info: dict  # migrator.rules explain(): the JSON form, explain_text() renders it
    exit_code = 0
    complaint = None


def rule(request: RuleRequest) -> RuleResult:
    from migrator.config import load_config
    from migrator.rules import explain, rules_base
    from migrator.rules.registry import find_rule

    settings = load_config(Path(request.config_path) if request.config_path else None)
    found = find_rule(request.rule_id)
    if found is None:
        raise UsageError(f"unknown rule {request.rule_id!r} (`migrator rules` lists them)")
    return RuleResult(explain(found, rules_base(request.rules_url, settings)))
