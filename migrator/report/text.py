"""Readable text: one block per migration, phase first, then the statements worth a look.

Colour (ANSI) only when stdout is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`;
`FORCE_COLOR` (non-empty) forces it. Everything else is plain string building: a 10,000-statement
report renders in a few tens of milliseconds. Control characters of the input are escaped.
"""

from __future__ import annotations

import io
import os
import sys

from migrator.escape import escape_controls as safe
from migrator.model import Finding, MigrationReport, Report, StatementReport, Summary
from migrator.phases import Phase, Severity
from migrator.report import Writer, write_report

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


class TextWriter(Writer):
    """Migrations with their phase; statements that are migrate/contract or have findings at or above
    warning (every statement and info findings too with `verbose`); then a one-line summary."""

    def __init__(self, out, *, verbose: bool = False, colour: bool | None = None,
                 rules_url: str | None = None) -> None:
        super().__init__(out, verbose=verbose, rules_url=rules_url)
        self.colour = use_colour() if colour is None else colour
        self._links: dict[str, str | None] = {}

    def paint(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.colour else text

    def shown(self, findings: list[Finding]) -> list[Finding]:
        if self.verbose:  # verbose: info findings, and suppressed ones with their reason
            return list(findings)
        return [f for f in findings if f.suppressed is None and f.severity >= Severity.WARNING]

    def finding(self, f: Finding, indent: str) -> str:
        label = self.paint(f"{f.severity.label} {f.rule}", _SEVERITY_COLOUR[f.severity])
        text = f"{indent}{label} {f.name}: {safe(f.message)}\n"
        if f.suppressed is not None:
            text += f"{indent}  {self.paint('suppressed: ' + safe(f.suppressed), _DIM)}\n"
        else:
            if f.fix:
                text += f"{indent}  fix: {safe(f.fix)}\n"
            link = self.link(f.rule)
            if link:
                text += f"{indent}  {self.paint('see: ' + safe(link), _DIM)}\n"
        return text

    def link(self, rule_id: str) -> str | None:
        from migrator.rules import short_link

        if rule_id not in self._links:
            self._links[rule_id] = short_link(self.rule_url(rule_id))
        return self._links[rule_id]

    def begin_migration(self, m: MigrationReport) -> None:
        head = self.paint(f"{m.phase.label.upper()}{' (mixed)' if m.mixed else ''}", _BOLD + _PHASE_COLOUR[m.phase])
        head += f"  {safe(m.source)}"
        if m.revision and m.revision not in m.source:
            head += f"  [{safe(m.revision)}]"
        if m.declared_phase is not None:
            head += f"  declared: {m.declared_phase.label}"
        self.out.write(head + "\n")
        if m.error:
            self.out.write(f"  {self.paint('error', _SEVERITY_COLOUR[Severity.ERROR])}: {safe(m.error)}\n")
        elif not len(m.statements):
            self.out.write("  no statements (empty or comments only)\n")

    def statement(self, m: MigrationReport, s: StatementReport) -> None:
        listed = self.shown(s.findings)
        if not listed and not self.verbose and s.phase <= Phase.EXPAND:
            return
        what = s.lock.label if s.lock else "no lock"
        if s.lock and s.table:
            what += f" on {safe(s.table)}"
        if s.rewrite.value:
            what += f", {s.rewrite.label}"
        phase = self.paint(f"{s.phase.label:<8}", _PHASE_COLOUR[s.phase])
        self.out.write(f"  {s.line}:{s.column}  {phase} [{what}]  {_one_line(s.sql)}\n"
                       + "".join(self.finding(f, "      ") for f in listed))

    def end_migration(self, m: MigrationReport) -> None:
        self.out.write("".join(self.finding(f, "  ") for f in self.shown(m.findings)) + "\n")

    def end(self, summary: Summary) -> None:
        self.out.write(summary_line(summary) + "\n")


def render_text(report: Report, *, verbose: bool = False, colour: bool | None = None,
                rules_url: str | None = None) -> str:
    out = io.StringIO()
    writer = TextWriter(out, verbose=verbose, colour=colour, rules_url=rules_url)
    summary = Summary()
    writer.begin()
    for m in report.migrations:
        writer.migration(m, summary)
    writer.end(summary)
    return out.getvalue()


def summary_line(summary: Summary | Report) -> str:
    s = (summary if isinstance(summary, Summary) else Summary.of(summary)).to_dict()
    phases = ", ".join(f"{n} {p}" for p, n in s["phases"].items() if n) or "nothing"
    counts = ", ".join(_plural(s["findings"][sev.label], sev.label) for sev in sorted(Severity, reverse=True)
                       if s["findings"][sev.label]) or "no findings"
    text = (f"{_plural(s['migrations'], 'migration')}, {_plural(s['statements'], 'statement')}: {phases}; "
            f"{s['mixed']} mixed; {counts}")
    if s["errors"]:
        text += f"; {_plural(s['errors'], 'unreadable migration')}"
    return text


__all__ = ["TextWriter", "render_text", "summary_line", "use_colour", "write_report"]
