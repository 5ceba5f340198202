"""Text and JSON of the fleet commands' results (never a password: every address is shown through
migrator.db.urls)."""

from __future__ import annotations

import json


def _counts(counts: dict) -> str:
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()) or "-"


def render(result: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result, indent=2, default=str) + "\n"
    if result["command"] == "fleet status":
        return _status_text(result)
    return _run_text(result)


def _run_text(r: dict) -> str:
    lines = [f"{r['command']}: release {r['release_id'] or '-'}: {r['databases_here']} of {r['fleet_size']} "
             f"database(s) (shard {r['shard']}), concurrency {r['concurrency']}"]
    for wave in r["waves"]:
        name = "canary" if wave["wave"] == "canary" else f"wave {wave['wave']}"
        lines.append(f"  {name:<8} {wave['databases']:>5}  {_counts(wave['counts'])}")
    lines.append(f"  {'total':<8} {r['databases_here']:>5}  {_counts(r['counts'])}")
    failed = [d for d in r["databases"] if d["result"] == "failed"]
    for d in failed:
        lines.append(f"FAILED {d['database']} (wave {d['wave']}, exit {d['exit_code']}): {d['message']}")
    lines.append(r["message"])
    return "\n".join(lines) + "\n"


def _status_text(r: dict) -> str:
    lines = [f"fleet status: release {r['release_id'] or '-'}: {r['databases_total']} database(s) (shard "
             f"{r['shard']})"]
    for wave in r["waves"]:
        name = "canary" if wave["wave"] == "canary" else f"wave {wave['wave']}"
        stopped = f"  ({wave['stopped']} stopped after a failure)" if wave["stopped"] else ""
        lines.append(f"  {name:<8} {wave['databases']:>5}  {_counts(wave['counts'])}{stopped}")
    lines.append(f"  {'total':<8} {r['databases_total']:>5}  {_counts(r['counts'])}")
    lines.append("")
    for d in r["databases"]:
        last = d["last_event"]
        note = f"  last: {last['command']} {last['result']}" if last else ""
        if last and last.get("error") and last["result"] in ("failed", "refused", "interrupted"):
            note += f": {last['error']}"
        if d["error"]:
            note = f"  {d['error']}"
        if d["ledger_verified"] is False:
            note += "  LEDGER TAMPERED"
        lines.append(f"  {d['wave']:<7} {d['state']:<12} {d['database']}{note}")
    lines.append("")
    lines.append(r["message"])
    if r.get("next_command"):
        lines.append(f"next: {r['next_command']}")
    return "\n".join(lines) + "\n"
