"""The JSON contract (version 1): see docs/output.md.

Layout: indented down to the statements, and each statement (with its findings) on one line. That keeps
a 10,000-statement report readable and greppable, and lets the C encoder do most of the work
(`json.dumps(indent=...)` always runs the pure-Python encoder, ~2.5x slower).
"""

from __future__ import annotations

import json

from migrator.model import MigrationReport, Report, StatementReport, Summary
from migrator.report import Writer

_encode = json.JSONEncoder(ensure_ascii=False).encode
FLAT_AT = 4  # report > migrations > migration > statements > statement: one line


def dumps(value, level: int = 0, flat_at: int = FLAT_AT) -> str:
    """JSON text indented by two spaces down to `flat_at` levels; deeper values on one line."""
    if level >= flat_at or not value or not isinstance(value, (dict, list)):
        return _encode(value)
    pad = "\n" + "  " * (level + 1)
    if isinstance(value, dict):
        body = ("," + pad).join(f"{_encode(k)}: {dumps(v, level + 1, flat_at)}" for k, v in value.items())
        return "{" + pad + body + "\n" + "  " * level + "}"
    body = ("," + pad).join(dumps(v, level + 1, flat_at) for v in value)
    return "[" + pad + body + "\n" + "  " * level + "]"


class JsonWriter(Writer):
    """The same text as `dumps(report.to_dict())`, written migration by migration and statement by statement."""

    def begin(self) -> None:
        self.count = 0
        self.out.write('{\n  "version": 1,\n  "migrations": ')

    def begin_migration(self, m: MigrationReport) -> None:
        self.out.write("[\n    {\n      " if self.count == 0 else ",\n    {\n      ")
        self.count += 1
        head = {"source": m.source, "phase": m.phase.label, "mixed": m.mixed,
                "declared_phase": m.declared_phase.label if m.declared_phase is not None else None}
        self.out.write(",\n      ".join(f"{_encode(k)}: {dumps(v, 3)}" for k, v in head.items()))
        self.first = True
        self.out.write(',\n      "statements": ' + ("[" if len(m.statements) else "[]"))

    def statement(self, m: MigrationReport, s: StatementReport) -> None:
        self.out.write("\n        " if self.first else ",\n        ")
        self.first = False
        self.out.write(_encode(s.to_dict()))

    def end_migration(self, m: MigrationReport) -> None:
        if not self.first:
            self.out.write("\n      ]")
        tail: dict[str, object] = {"findings": [f.to_dict() for f in m.findings if f.suppressed is None]}
        if m.revision is not None:
            tail["revision"] = m.revision
        if m.error is not None:
            tail["error"] = m.error
        self.out.write("".join(f",\n      {_encode(k)}: {dumps(v, 3)}" for k, v in tail.items()) + "\n    }")

    def end(self, summary: Summary) -> None:
        self.out.write("\n  ]" if self.count else "[]")
        self.out.write(f',\n  "summary": {dumps(summary.to_dict(), 1)}\n}}\n')


def render_json(report: Report) -> str:
    return dumps(report.to_dict()) + "\n"
