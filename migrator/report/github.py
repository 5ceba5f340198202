"""GitHub Actions workflow commands: one annotation per finding, then a plain summary line.

    ::error file=migrations/0002.sql,line=3,endLine=4,col=1,title=C317 drop-column::drops column ...

error -> `::error`, warning -> `::warning`, info -> `::notice`. Findings about a whole migration go on
line 1. Suppressed findings are not annotated. Escaping follows @actions/core: in the message `%`, CR
and LF become %25, %0D, %0A; in property values `:` and `,` are escaped too (%3A, %2C).
"""

from __future__ import annotations

from migrator.escape import escape_controls
from migrator.model import Finding, MigrationReport, Report, StatementReport, Summary
from migrator.phases import Severity
from migrator.report import Writer
from migrator.report._paths import end_line, relative_path
from migrator.report.text import summary_line

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """@actions/core's escaping, after every other control character was shown as an escape (a CI log is a
    terminal too)."""
    return escape_controls(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **props: object) -> str:
    """`::kind k=v,...::message` with every value and the message escaped."""
    args = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None)
    return f"::{kind} {args}::{escape_data(message)}" if args else f"::{kind}::{escape_data(message)}"


def _annotation(f: Finding, m: MigrationReport, s: StatementReport | None) -> str:
    message = f"{f.message}\nfix: {f.fix}" if f.fix else f.message
    if s is not None:
        last = end_line(s.line, s.sql) if m.revision is None else s.line  # alembic: lines are in the .py file
        where = {"line": s.line, "endLine": last if last > s.line else None, "col": s.column}
        if f.line is not None:  # a statement inside a DO block: its own line
            where = {"line": f.line, "endLine": None, "col": None}
        context = f"{s.phase.label}" + (f", {s.lock.label} on {s.table}" if s.lock and s.table else "")
        message = f"{message}\n[{context}]"
    else:
        where = {"line": 1, "endLine": None, "col": 1}
    return command(COMMANDS[f.severity], message, file=relative_path(m.source), **where,
                   title=f"{f.rule} {f.name}")


class GithubWriter(Writer):
    def begin_migration(self, m: MigrationReport) -> None:
        if m.error:
            self.out.write(command("error", m.error, file=relative_path(m.source), line=1,
                                   title="migrator input error") + "\n")

    def statement(self, m: MigrationReport, s: StatementReport) -> None:
        for f in s.findings:
            if f.suppressed is None:
                self.out.write(_annotation(f, m, s) + "\n")

    def end_migration(self, m: MigrationReport) -> None:
        for f in m.findings:
            if f.suppressed is None:
                self.out.write(_annotation(f, m, None) + "\n")

    def end(self, summary: Summary) -> None:
        self.out.write(f"migrator: {escape_controls(summary_line(summary))}\n")


def render_github(report: Report) -> str:
    from migrator.report import render

    return render(report, "github")
