"""Readable text: one block per migration, phase first, then the statements worth a look.

Colour (ANSI) only when stdout is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`;
`FORCE_COLOR` (non-empty) forces it. Everything else is plain string building: a 10,000-statement
report renders in a few tens of milliseconds.
"""

from __future__ import annotations

import os
import sys

from migrator.escape import escape_controls as safe
from migrator.model import Finding, Report
from migrator.phases import Phase, Severity

_RESET = "\033[0m"
_PHASE_COLOUR = {Phase.NONE: "\033[2m", Phase.EXPAND: "\033[32m", Phase.MIGRATE: "\033[36m",
                 Phase.CONTRACT: "\033[33m"}
_SEVERITY_COLOUR = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[2m"}
_DIM, _BOLD = "\033[2m", "\033[1m"


def use_colour(stream=None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream if stream is not None else sys.stdout
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def _one_line(sql: str, width: int = 100) -> str:
    flat = " ".join(sql[: width * 8].split())  # a prefix: a statement may be megabytes long
    return safe(flat if len(flat) <= width else flat[: width - 3] + "...")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 or word == "info" else f"{n} {word}s"


def render_text(report: Report, *, verbose: bool = False, colour: bool | None = None) -> str:
    """Migrations with their phase; statements that are migrate/contract or have findings at or above
    warning (every statement and info findings too with `verbose`); then a one-line summary."""
    if colour is None:
        colour = use_colour()

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    def finding(f: Finding, indent: str) -> None:
        label = paint(f"{f.severity.label} {f.rule}", _SEVERITY_COLOUR[f.severity])
        out.append(f"{indent}{label} {f.name}: {safe(f.message)}")
        if f.suppressed is not None:
            out.append(f"{indent}  {paint('suppressed: ' + safe(f.suppressed), _DIM)}")
        elif f.fix:
            out.append(f"{indent}  fix: {safe(f.fix)}")

    def shown(findings: list[Finding]) -> list[Finding]:
        if verbose:  # verbose: info findings, and suppressed ones with their reason
            return list(findings)
        return [f for f in findings if f.suppressed is None and f.severity >= Severity.WARNING]

    out: list[str] = []
    for m in report.migrations:
        head = paint(f"{m.phase.label.upper()}{' (mixed)' if m.mixed else ''}", _BOLD + _PHASE_COLOUR[m.phase])
        head += f"  {safe(m.source)}"
        if m.revision and m.revision not in m.source:
            head += f"  [{safe(m.revision)}]"
        if m.declared_phase is not None:
            head += f"  declared: {m.declared_phase.label}"
        out.append(head)
        if m.error:
            out.append(f"  {paint('error', _SEVERITY_COLOUR[Severity.ERROR])}: {safe(m.error)}")
        for s in m.statements:
            listed = shown(s.findings)
            if not listed and not verbose and s.phase <= Phase.EXPAND:
                continue
            what = s.lock.label if s.lock else "no lock"
            if s.lock and s.table:
                what += f" on {safe(s.table)}"
            if s.rewrite.value:
                what += f", {s.rewrite.label}"
            phase = paint(f"{s.phase.label:<8}", _PHASE_COLOUR[s.phase])
            out.append(f"  {s.line}:{s.column}  {phase} [{what}]  {_one_line(s.sql)}")
            for f in listed:
                finding(f, "      ")
        for f in shown(m.findings):
            finding(f, "  ")
        out.append("")
    out.append(summary_line(report))
    return "\n".join(out) + "\n"


def summary_line(report: Report) -> str:
    s = report.summary()
    phases = ", ".join(f"{n} {p}" for p, n in s["phases"].items() if n) or "nothing"
    counts = ", ".join(_plural(s["findings"][sev.label], sev.label) for sev in sorted(Severity, reverse=True)
                       if s["findings"][sev.label]) or "no findings"
    text = (f"{_plural(s['migrations'], 'migration')}, {_plural(s['statements'], 'statement')}: {phases}; "
            f"{s['mixed']} mixed; {counts}")
    if s["errors"]:
        text += f"; {_plural(s['errors'], 'unreadable migration')}"
    return text
