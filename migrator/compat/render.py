"""Render a CompatResult for people (text) and programs (json)."""

from __future__ import annotations

import json

from migrator.compat.result import CompatResult
from migrator.escape import escape_controls

_VERDICT = {"pass": "PASS", "fail": "FAIL", "refused": "REFUSED", "error": "ERROR"}


def render_compat(result: CompatResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2) + "\n"
    out = [f"compat {_VERDICT.get(result.result, result.result)}: blue {result.blue_ref} ({result.blue_sha[:8]}) "
           f"on green {result.green_ref or 'working tree'} ({result.green_sha[:8]}"
           f"{', dirty' if result.green_dirty else ''})"]
    if result.reason:
        out.append(f"  {result.reason}")
    revs = result.revisions
    if revs:
        applied = ", ".join(f"{r} ({p})" for p in ("expand", "migrate", "none") for r in revs.get(p, []))
        out.append(f"  blue heads: {', '.join(revs.get('blue_heads', [])) or 'base'}; applied: {applied or 'nothing'}; "
                   f"held back: {', '.join(revs.get('held_back', [])) or 'nothing'}")
    if result.fingerprint:
        out.append(f"  schema fingerprint: {result.fingerprint}")
    if result.suites:
        out.append("")
        out.append(f"  {'app':<6} {'schema':<11} {'result':<6} {'passed':>6} {'failed':>6} {'errors':>6} {'skipped':>7} "
                   f"{'time':>7}")
        for s in result.suites:
            out.append(f"  {s.app:<6} {s.schema:<11} {s.result:<6} {s.passed:>6} {s.failed:>6} {s.errors:>6} "
                       f"{s.skipped:>7} {s.duration:>6.2f}s")
        for s in result.suites:
            for f in s.failures:
                out.append(f"  FAILED [{s.app}/{s.schema}] {f['test']}: {f['error']}")
    if result.provider:
        out.append(f"  database: PostgreSQL {result.postgres_version // 10000 if result.postgres_version else '?'} "
                   f"from the {result.provider} provider; {result.duration:.2f}s in all")
    return escape_controls("\n".join(out) + "\n")
