"""Read rule fixtures: tests/rules/fixtures/<ID>.sql.

Each case starts with `-- title: ...`, then header comments:
  -- expect: C317            the rule matches (at least one statement of the case)
  -- expect: none            the rule does not match
  -- phase: contract         (optional) the case's migration phase
  -- settings: postgres_version=10, assume_in_transaction=true   (optional)
and the SQL of one migration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
_HEADER = re.compile(r"^--\s*(title|expect|phase|settings):\s*(.*?)\s*$")


@dataclass
class Case:
    rule: str
    title: str
    sql: str = ""
    expect: bool = True
    phase: str | None = None
    settings: dict = field(default_factory=dict)
    line: int = 0


def load_cases(rule_id: str) -> list[Case]:
    path = FIXTURES / f"{rule_id}.sql"
    cases: list[Case] = []
    current: Case | None = None
    body: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = _HEADER.match(line)
        if m and m.group(1) == "title":
            if current is not None:
                current.sql = "\n".join(body).strip()
                cases.append(current)
            current, body = Case(rule_id, m.group(2), line=n), []
        elif m and current is not None and not body:
            key, value = m.groups()
            if key == "expect":
                current.expect = value.lower() != "none"
                if current.expect and value.upper() != rule_id:
                    raise ValueError(f"{path}:{n}: expect names {value}, the file is for {rule_id}")
            elif key == "phase":
                current.phase = value.lower()
            elif key == "settings":
                for item in value.split(","):
                    k, _, v = item.partition("=")
                    v = v.strip()
                    current.settings[k.strip()] = int(v) if v.isdigit() else v.lower() == "true"
        elif current is not None:
            body.append(line)
    if current is not None:
        current.sql = "\n".join(body).strip()
        cases.append(current)
    return cases
