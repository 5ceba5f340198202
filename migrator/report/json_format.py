"""The JSON contract (version 1): see docs/output.md.

Layout: indented down to the statements, and each statement (with its findings) on one line. That keeps
a 10,000-statement report readable and greppable, and lets the C encoder do most of the work
(`json.dumps(indent=...)` always runs the pure-Python encoder, ~2.5x slower).
"""

from __future__ import annotations

import json

from migrator.model import Report

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


def render_json(report: Report) -> str:
    return dumps(report.to_dict()) + "\n"
