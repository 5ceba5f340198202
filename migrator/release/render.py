"""Render the results of the release commands: text (people at a terminal), markdown (the pull-request comment a
DBA reviews), json (programs). Every renderer takes a ReleaseResult (a command's result, or
error_result() of a failed one) and reads its attributes."""

from __future__ import annotations

import json

from migrator.escape import escape_controls
from migrator.release.result import ReleaseResult, error_result

__all__ = ["FORMATS", "error_result", "render"]

FORMATS = ("text", "markdown", "json")
_PHASE_COMMAND = {"expand": "migrator expand", "migrate": "migrator migrate", "contract": "migrator contract"}
_SQL_WIDTH = 90


def render(result: ReleaseResult | dict, fmt: str = "text") -> str:
    if isinstance(result, dict):  # a result dict of migrator.release.commands
        result = ReleaseResult.from_dict(result)
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, default=str) + "\n"
    return escape_controls(_render_text(result, fmt))


def _render_text(result: ReleaseResult, fmt: str) -> str:
    command = result.command
    if result.result in ("refused", "error"):
        return _error_md(result) if fmt == "markdown" else _error_text(result)
    if command == "plan":
        return plan_markdown(result) if fmt == "markdown" else plan_text(result)
    if command == "status":
        return status_markdown(result) if fmt == "markdown" else status_text(result)
    return command_markdown(result) if fmt == "markdown" else command_text(result)


# --- helpers ----------------------------------------------------------------------------------------------------


def _short(sha: str | None) -> str:
    return (sha or "?")[:8]


def _one_line(sql: str, width: int = _SQL_WIDTH) -> str:
    text = " ".join((sql or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _rows(st: dict) -> str:
    rows = st.get("rows")
    if rows is None:
        return "-"
    return f"{rows:,}"


def _size(st: dict) -> str:
    from migrator.release.estimate import format_bytes

    return format_bytes(st.get("size_bytes")) if st.get("size_bytes") is not None else "-"


def _table_size(t: dict) -> str:
    from migrator.release.estimate import format_bytes

    rows = f"{t['rows']:,} rows" if t.get("rows") is not None else "rows unknown (never analysed)"
    return f"{rows}, {format_bytes(t.get('bytes'))} ({format_bytes(t.get('total_bytes'))} with indexes)"


def _estimate_line(st: dict, *, markdown: bool = False) -> str:
    """`~2.3 s, estimate: rewrite of users under ACCESS EXCLUSIVE; copies ...`: how long the lock is held."""
    est = st["estimate"]
    lock = f" under {st['lock']}" if st.get("lock") else ""
    rest = f"{est['kind']} of {st.get('table')}{lock}; {est['basis']}"
    return f"**{est['text']}**: {_md_cell(rest)}" if markdown else f"{est['text']}: {rest}"


def _md_cell(text) -> str:
    return str(text if text is not None else "-").replace("|", "\\|").replace("\n", " ")


def _refs(result: ReleaseResult) -> str:
    return (f"blue {_short(result.blue_sha)} -> green {result.green_ref or '?'} "
            f"{_short(result.green_sha)}" + (" (uncommitted changes)" if result.green_dirty else ""))


# --- plan -------------------------------------------------------------------------------------------------------


def plan_text(result: ReleaseResult) -> str:
    plan = result.plan or {}
    out = []
    title = f"release {result.release_id}" if result.release_id else "release plan (not recorded)"
    state = f" [{result.state}]" if result.state else ""
    out.append(f"{title}{state}: {_refs(result)}")
    heads = ", ".join(plan.get("blue_heads") or []) or "base"
    out.append(f"database at {heads}; green head {plan.get('green_head') or 'base'}; risk {plan['risk'].upper()}"
               + ("" if plan.get("rows_estimated") else "; rows not estimated (no database)"))
    if plan.get("tables"):
        out.append("tables: " + "; ".join(f"{name} {_table_size(t)}" for name, t in sorted(plan["tables"].items())))
    for note in plan.get("notes") or []:
        out.append(f"note: {note}")
    gates = plan.get("gates") or {}
    for phase in ("expand", "migrate", "switch", "contract"):
        out.append("")
        revisions = (plan.get("phases") or {}).get(phase)
        command = _PHASE_COMMAND.get(phase, "migrator switch --to green --evidence FILE")
        if revisions is None:
            out.append(f"{phase.upper()}  ({command})")
        else:
            names = ", ".join(r["revision"] for r in revisions) or "no revisions"
            out.append(f"{phase.upper()}  ({command}): {names}")
        for gate in gates.get(phase, []):
            out.append(f"  gate: {gate}")
        for rev in revisions or []:
            declared = f", declared {rev['declared']}" if rev.get("declared") else ""
            out.append(f"  {rev['revision']}  classified {rev['classified']}{declared}; risk {rev['risk']}")
            for f in rev.get("findings") or []:
                out.append(f"      {f['rule']} {f['severity']}: {f['message']}")
            statements = [s for s in rev["statements"] if _shown(s)]
            hidden = len(rev["statements"]) - len(statements)
            if statements:
                out.append(f"    {'lock':<22} {'table':<20} {'est. rows':>10} {'size':>9}  {'rewrite':<7}  {'risk':<6}  "
                           "statement")
            for s in statements:
                out.append(f"    {s.get('lock') or '-':<22} {_trim(s.get('table') or '-', 20):<20} {_rows(s):>10} "
                           f"{_size(s):>9}  {s['rewrite']:<7}  {s['risk']:<6}  {_one_line(s['sql'], 70)}")
                if s.get("estimate"):
                    out.append(f"      {_estimate_line(s)}")
                for f in s.get("findings") or []:
                    out.append(f"      {f['rule']} {f['severity']}: {f['message']}")
                for f in s.get("reviewed") or []:
                    out.append(f"      {f['rule']} {f['severity']} (reviewed, suppressed): {f['reason']}")
                for f in s.get("handled") or []:
                    out.append(f"      {f['rule']} handled: {f['how']}")
                for p in s.get("preflight") or []:
                    out.append(f"      preflight: {phase} {p['message']}")
            if hidden:
                out.append(f"    (+{hidden} statement{'s' if hidden > 1 else ''} without schema effect)")
    out.append("")
    if result.message:
        out.append(result.message)
    if result.next_command:
        out.append(f"next: {result.next_command}")
    return "\n".join(out) + "\n"


def _shown(st: dict) -> bool:
    return not (st.get("phase") == "none" and st.get("lock") is None and not st.get("findings")
                and not st.get("reviewed") and not st.get("preflight") and not st.get("handled"))


def _trim(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def plan_markdown(result: ReleaseResult) -> str:
    plan = result.plan or {}
    out = []
    title = f"`{result.release_id}`" if result.release_id else "(not recorded)"
    out.append(f"### migrator release plan {title}")
    out.append("")
    heads = ", ".join(f"`{h}`" for h in plan.get("blue_heads") or []) or "base"
    out.append(f"**{_refs(result)}** · database at {heads} · green head `{plan.get('green_head') or 'base'}` · "
               f"overall risk **{plan['risk']}**")
    if not plan.get("rows_estimated"):
        out.append("")
        out.append("_Rows not estimated: planned without the live database._")
    if plan.get("tables"):
        out.append("")
        out.append("Tables: " + "; ".join(f"`{name}` {_table_size(t)}" for name, t in sorted(plan["tables"].items())))
    for note in plan.get("notes") or []:
        out.append("")
        out.append(f"> {note}")
    gates = plan.get("gates") or {}
    for phase in ("expand", "migrate", "switch", "contract"):
        revisions = (plan.get("phases") or {}).get(phase)
        command = _PHASE_COMMAND.get(phase, "migrator switch --to green --evidence FILE")
        out.append("")
        out.append(f"#### {phase} — `{command}`")
        out.append("")
        if gates.get(phase):
            out.append("Gates:")
            out.extend(f"- [ ] {g}" for g in gates[phase])
            out.append("")
        if revisions is None:
            continue
        if not revisions:
            out.append("_No revisions._")
            continue
        out.append("| revision | statement | lock | table | est. rows | rewrite | risk |")
        out.append("|---|---|---|---|--:|---|---|")
        notes = []
        durations = []
        for rev in revisions:
            for s in rev["statements"]:
                if not _shown(s):
                    continue
                if s.get("estimate"):
                    durations.append(f"- `{rev['revision']}` `{_md_cell(_one_line(s['sql'], 60))}`: "
                                     f"{_estimate_line(s, markdown=True)}")
                sql = _md_cell(_one_line(s["sql"], 80))
                out.append(f"| `{rev['revision']}` | `{sql}` | {_md_cell(s.get('lock'))} | {_md_cell(s.get('table'))} | "
                           f"{_rows(s)} | {s['rewrite']} | {_risk_md(s['risk'])} |")
                notes += [(rev["revision"], f) for f in s.get("findings") or []]
                notes += [(rev["revision"], {**f, "message": f"reviewed, suppressed: {f['reason']}", "fix": None})
                          for f in s.get("reviewed") or []]
                notes += [(rev["revision"], {"rule": f["rule"], "severity": "handled", "message": f["how"], "fix": None})
                          for f in s.get("handled") or []]
                notes += [(rev["revision"], {"rule": "preflight", "severity": "error" if p["fails"] else "info",
                                             "message": f"{phase} {p['message']}", "fix": None})
                          for p in s.get("preflight") or []]
            notes += [(rev["revision"], f) for f in rev.get("findings") or []]
        if durations:
            out.append("")
            out.append("Estimated durations (how long each lock is held; rates sampled on this server):")
            out.append("")
            out.extend(durations)
        if notes:
            out.append("")
            out.append("<details><summary>Findings</summary>")
            out.append("")
            for rev, f in notes:
                fix = f" Fix: {' '.join(f['fix'].split())}" if f.get("fix") else ""
                out.append(f"- `{rev}` **{f['rule']}** ({f['severity']}): {_md_cell(f['message'])}{_md_cell(fix)}")
            out.append("")
            out.append("</details>")
    out.append("")
    return "\n".join(out) + "\n"


def _risk_md(risk: str) -> str:
    return {"high": "**high**", "medium": "medium", "low": "low"}.get(risk, risk)


# --- results of expand / migrate / switch / rollback / contract ---------------------------------------------------


def command_text(result: ReleaseResult) -> str:
    out = [f"{result.command}: {result.message or result.result}"]
    if result.forced:
        out.append("  forced past the gate (recorded in the ledger with the reason)")
    gate = result.gate
    if isinstance(gate, dict):
        for check in gate.get("checks") or []:
            out.append(f"  {check['status']:<7} {check['name']}: {check['detail']}")
        if not gate.get("checks"):
            for reason in gate.get("reasons") or []:
                out.append(f"  - {reason}")
    if result.state:
        colour = f", traffic on {result.active_color}" if result.active_color else ""
        out.append(f"state: {result.state}{colour}")
    if result.next_command:
        out.append(_next_line(result))
    return "\n".join(out) + "\n"


def _next_line(result: ReleaseResult) -> str:
    """"next: migrator contract (possible in 14m, when the 15m soak ends ...)"."""
    when = f" ({result.next_when})" if result.next_when else ""
    return f"next: {result.next_command}{when}"


def command_markdown(result: ReleaseResult) -> str:
    out = [f"**{result.command}**: {result.message or result.result}", ""]
    gate = result.gate
    if isinstance(gate, dict):
        for check in gate.get("checks") or []:
            mark = "x" if check["status"] == "pass" else " "
            out.append(f"- [{mark}] {check['name']}: {_md_cell(check['detail'])}")
        out.append("")
    if result.state:
        out.append(f"State: `{result.state}`, traffic on {result.active_color or '?'}.")
    if result.next_command:
        when = f" ({result.next_when})" if result.next_when else ""
        out.append(f"Next: `{result.next_command}`{when}")
    return "\n".join(out) + "\n"


def _error_text(result: ReleaseResult) -> str:
    out = [f"{result.command} {result.result}: {result.message}"]
    return "\n".join(out) + "\n"


def _error_md(result: ReleaseResult) -> str:
    out = [f"**{result.command} {result.result}**: {_md_cell(result.message)}"]
    for reason in result.reasons or []:
        out.append(f"- {_md_cell(reason)}")
    return "\n".join(out) + "\n"


# --- status -------------------------------------------------------------------------------------------------------


def status_text(result: ReleaseResult) -> str:
    out = []
    if not result.release_id:
        out.append(f"no release: {result.message}")
        out.append(f"database: {result.database} at {', '.join(result.alembic_heads or []) or 'base'}")
        out.extend(_ledger_lines(result.ledger))
        if result.next_command:
            out.append(f"next: {result.next_command}")
        return "\n".join(out) + "\n"
    out.append(f"release {result.release_id}: {result.state}, traffic on {result.active_color}")
    switching = result.switching
    if switching:
        router = switching.get("router")
        out.append(f"WARNING: a {'rollback' if switching.get('to_color') == 'blue' else 'switch'} to "
                   f"{switching.get('to_color')} was interrupted (from {switching.get('from_state')}); the router "
                   + (f"serves {router}" if router else "cannot say which colour it serves")
                   + ": the next switch, rollback or contract records where traffic is")
    blue, green = result.blue or {}, result.green or {}
    out.append(f"blue {blue.get('ref') or '?'} {_short(blue.get('sha'))}  green {green.get('ref') or '?'} "
               f"{_short(green.get('sha'))}")
    out.append(f"database: {result.database} at alembic "
               f"{', '.join(result.alembic_heads or []) or 'base'}")
    if result.drift:
        out.append(f"WARNING: {result.drift}")
    for phase, revs in (result.phases or {}).items():
        marks = "  ".join(f"[{'x' if r['applied'] else ' '}] {r['revision']}" for r in revs) or "-"
        out.append(f"  {phase:<9} {marks}")
    ev = result.evidence
    if ev and ev.get("error"):
        out.append(f"evidence: the stored evidence is not usable: {ev['error']}")
    elif ev:
        cells = ", ".join(f"{c.get('cell')} {c.get('result')} ({c.get('passed')} passed)"
                          for c in ev.get("cells") or [])
        signed = f"signed with key {ev['key_id']}" if ev.get("key_id") else "not signed"
        expanded = (ev.get("schemas") or {}).get("expanded") or "?"
        out.append(f"evidence: {ev.get('result')}; blue {_short(ev.get('blue_sha'))}, green "
                   f"{_short(ev.get('green_sha'))}; expanded schema {expanded[:12]}"
                   + (f"; {cells}" if cells else "") + f"; {signed}; digest {(ev.get('digest') or '?')[:12]}")
    else:
        out.append("evidence: none recorded yet (expand and switch record it)")
    for name, gate in (result.gates or {}).items():
        verdict = "passes" if gate.get("passed") else ("refuses" if gate.get("evaluated") else "not evaluated")
        out.append(f"{name} gate: {verdict}")
        for check in gate.get("checks") or []:
            out.append(f"  {check['status']:<7} {check['name']}: {check['detail']}")
        if not gate.get("checks"):
            for reason in gate.get("reasons") or []:
                out.append(f"  - {reason}")
    out.extend(_ledger_lines(result.ledger))
    events = result.events or []
    if events:
        out.append("recent events:")
        for e in events:
            forced = f" FORCED ({e.get('reason')})" if e.get("forced") else (
                f" ({e['reason']})" if e.get("reason") else "")
            out.append(f"  {e['at'][:19]}  {e['command']:<9} {e['result']:<10} {e['actor']}{forced}")
    if result.next_command:
        out.append(_next_line(result))
    return "\n".join(out) + "\n"


def _ledger_lines(ledger: dict | None) -> list[str]:
    if not ledger:
        return []
    if ledger.get("version", 2) < 2:
        return [f"ledger: version {ledger.get('version')}, no hash chain yet (the next release command upgrades it)"]
    if ledger.get("verified"):
        head = (ledger.get("head") or "-")[:16]
        return [f"ledger: {ledger.get('events')} events, hash chain verified, head {head}"]
    return [f"LEDGER TAMPERED: {ledger.get('problem')}"]


def status_markdown(result: ReleaseResult) -> str:
    if not result.release_id:
        return f"**No release**: {result.message}\n"
    out = [f"### release `{result.release_id}`: {result.state} (traffic on {result.active_color})", ""]
    if result.drift:
        out += [f"> **Warning:** {_md_cell(result.drift)}", ""]
    ledger = result.ledger or {}
    if ledger and not ledger.get("verified", True):
        out += [f"> **Ledger tampered:** {_md_cell(ledger.get('problem'))}", ""]
    out.append("| phase | revisions |")
    out.append("|---|---|")
    for phase, revs in (result.phases or {}).items():
        marks = ", ".join(f"{'✅' if r['applied'] else '⬜'} `{r['revision']}`" for r in revs) or "-"
        out.append(f"| {phase} | {marks} |")
    for name, gate in (result.gates or {}).items():
        out += ["", f"**{name} gate**: {'passes' if gate.get('passed') else 'refuses'}"]
        for check in gate.get("checks") or []:
            out.append(f"- [{'x' if check['status'] == 'pass' else ' '}] {check['name']}: {_md_cell(check['detail'])}")
        if not gate.get("checks"):
            out += [f"- {_md_cell(r)}" for r in gate.get("reasons") or []]
    if result.next_command:
        out += ["", f"Next: `{result.next_command}`"]
    return "\n".join(out) + "\n"
