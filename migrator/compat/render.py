"""Render a CompatResult for people (text) and programs (json)."""

from __future__ import annotations

import json

from migrator.compat.result import CompatResult
from migrator.escape import escape_controls

_VERDICT = {"pass": "PASS", "fail": "FAIL", "refused": "REFUSED", "error": "ERROR", "inconclusive": "INCONCLUSIVE"}
MAX_FAILURES = 20  # lines of failures, about
MAX_NAMED = 8  # tests named under one shared error


def render_compat(result: CompatResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2) + "\n"
    out = [f"compat {_VERDICT.get(result.result, result.result)}: blue {result.blue_ref} ({result.blue_sha[:8]}) "
           f"on green {result.green_ref or 'working tree'} ({result.green_sha[:8]}"
           f"{', dirty' if result.green_dirty else ''})"]
    for reason in result.reasons or ([result.reason] if result.reason else []):
        out.append(f"  - {reason}" if len(result.reasons) > 1 else f"  {reason}")
    revs = result.revisions
    if revs:
        applied = ", ".join(f"{r} ({p})" for p in ("expand", "migrate", "none") for r in revs.get(p, []))
        out.append(f"  blue heads: {', '.join(revs.get('blue_heads', [])) or 'base'}; applied: {applied or 'nothing'}; "
                   f"held back: {', '.join(revs.get('held_back', [])) or 'nothing'}")
    if result.fingerprint:
        out.append(f"  schema fingerprint: {result.fingerprint}")
    if result.cells:
        out.append("")
        out.append(f"  {'app':<6} {'schema':<11} {'result':<12} {'passed':>6} {'failed':>6} {'errors':>6} "
                   f"{'skipped':>7} {'time':>7}")
        for s in result.cells:
            out.append(f"  {s.app:<6} {s.schema:<11} {s.result:<12} {s.passed:>6} {s.failed:>6} {s.errors:>6} "
                       f"{s.skipped:>7} {s.duration:>6.2f}s")
        out.extend(_failures(result))
    if result.provider:
        out.append(f"  database: PostgreSQL {result.postgres_version // 10000 if result.postgres_version else '?'} "
                   f"from the {result.provider} provider; {result.duration:.2f}s in all")
    return escape_controls("\n".join(out) + "\n")


def _failures(result: CompatResult) -> list[str]:
    """Failing tests grouped by cell and first error: 59 tests failing on one missing column are one error with
    the tests named under it, not 59 copies of it."""
    groups: dict[tuple, list[str]] = {}
    for s in result.cells:
        for f in s.failures:
            groups.setdefault((s.app, s.schema, f["error"], f.get("attribution") or ""), []).append(f["test"])
    lines: list[str] = []
    shown = 0  # tests accounted for above
    for (app, schema, error, attribution), tests in groups.items():
        if len(lines) >= MAX_FAILURES:
            left = sum(len(t) for t in groups.values()) - shown
            lines.append(f"  ... and {left} more failing tests (--format json lists them all)")
            break
        why = {"own-schema": " (fails on its own schema too)"}.get(attribution, "")
        if len(tests) == 1:
            lines.append(f"  FAILED [{app}/{schema}] {tests[0]}: {error}{why}")
            shown += 1
            continue
        lines.append(f"  FAILED [{app}/{schema}] {len(tests)} tests: {error}{why}")
        named = tests[:MAX_NAMED]
        lines.extend(f"      {test}" for test in named)
        if len(tests) > len(named):
            lines.append(f"      ... and {len(tests) - len(named)} more")
        shown += len(tests)
    return lines
