"""Readable text: one block per migration, phase first."""

from __future__ import annotations

from migrator.model import Report
from migrator.phases import Severity


def _one_line(sql: str, width: int = 100) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def render_text(report: Report, *, verbose: bool = False) -> str:
    out: list[str] = []
    floor = Severity.INFO if verbose else Severity.WARNING
    for m in report.migrations:
        head = f"{m.phase.label.upper()}{' (mixed)' if m.mixed else ''}  {m.source}"
        if m.revision and m.revision not in m.source:
            head += f"  [{m.revision}]"
        if m.declared_phase is not None:
            head += f"  declared: {m.declared_phase.label}"
        out.append(head)
        if m.error:
            out.append(f"  error: {m.error}")
        for s in m.statements:
            shown = [f for f in s.findings if f.suppressed is None and f.severity >= floor]
            if not shown and not verbose and s.phase.label in ("none", "expand") and not s.findings:
                continue
            lock = f" {s.lock.label}" if s.lock else ""
            table = f" on {s.table}" if s.table and s.lock else ""
            rewrite = f", {s.rewrite.label}" if s.rewrite.value else ""
            out.append(f"  {s.line}:{s.column}  {s.phase.label:<8} [{lock.strip() or 'no lock'}{table}{rewrite}]  "
                       f"{_one_line(s.sql)}")
            for f in shown:
                out.append(f"      {f.severity.label} {f.rule} {f.name}: {f.message}")
                if f.fix:
                    out.append(f"        fix: {f.fix}")
        for f in m.findings:
            if f.suppressed is None and f.severity >= floor:
                out.append(f"  {f.severity.label} {f.rule} {f.name}: {f.message}")
                if f.fix:
                    out.append(f"    fix: {f.fix}")
        out.append("")
    s = report.summary()
    phases = ", ".join(f"{n} {p}" for p, n in s["phases"].items() if n)
    counts = ", ".join(f"{n} {sev}" for sev, n in s["findings"].items() if n) or "no findings"
    out.append(f"{s['migrations']} migration(s), {s['statements']} statement(s): {phases or 'nothing'}; "
               f"{s['mixed']} mixed; {counts}")
    return "\n".join(out) + "\n"
