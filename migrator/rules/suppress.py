"""`-- migrator: ignore <rule>[, <rule>] reason: ...` comments (`#` in Python revision files)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERN = re.compile(
    r"(?:--|#)[ \t]*migrator:[ \t]*ignore(?P<file>-file)?[ \t]+(?P<rules>[\w\-]+(?:[ \t]*,[ \t]*[\w\-]+)*)"
    r"(?:[ \t]+reason:[ \t]*(?P<reason>[^\n]*))?",
    re.IGNORECASE,
)


@dataclass
class Suppression:
    rules: tuple[str, ...]  # lower-cased ids or names; "all" matches every rule
    reason: str | None
    offset: int
    line: int
    whole_file: bool

    def matches(self, rule_id: str, rule_name: str) -> bool:
        return any(r in ("all", rule_id.lower(), rule_name) for r in self.rules)


def find_suppressions(text: str, *, whole_file: bool = False) -> list[Suppression]:
    """Every ignore comment in `text`; with whole_file=True each applies to the whole source."""
    if "migrator" not in text.lower():  # fast path for large files
        return []
    found = []
    for m in _PATTERN.finditer(text):
        reason = (m.group("reason") or "").strip() or None
        rules = tuple(r.strip().lower() for r in m.group("rules").split(","))
        line = text.count("\n", 0, m.start()) + 1
        found.append(Suppression(rules, reason, m.start(), line, whole_file or bool(m.group("file"))))
    return found
