"""Every command's output: one renderer registry per format, keyed by the result's type.

A renderer writes a result to stdout (`out`); diagnostics of single items (a migration that could not be read)
go to stderr as they come. The one-line complaint of a result (why its exit code is not 0) is migrator.cli's.
Renderers import their formatters inside: `migrator --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from migrator.errors import UsageError

Renderer = Callable[[Any, str, TextIO], None]


def _warn(message: str) -> None:
    from migrator.escape import escape_controls

    sys.stderr.write(f"migrator: {escape_controls(message)}\n")


def _classify(result, fmt: str, out: TextIO) -> None:
    """Migration by migration, as each is classified (a CI log shows each one at once)."""
    from migrator.report import write_report

    def written(migration) -> None:
        out.flush()
        close = getattr(migration.statements, "close", None)
        if close is not None:
            close()
        if migration.error:
            _warn(migration.error)

    result.summary = write_report(result.migrations, fmt, out, verbose=result.verbose, after_each=written,
                                  rules_url=result.rules_url)


def _release(result, fmt: str, out: TextIO) -> None:
    from migrator.release.render import render

    out.write(render(result, fmt))


def _gate_text(result, fmt: str, out: TextIO) -> None:
    from migrator.release.verdict import render_text

    out.write(render_text(result.to_dict()))


def _json_of(result, fmt: str, out: TextIO) -> None:
    out.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")


def _compat(result, fmt: str, out: TextIO) -> None:
    from migrator.compat.render import render_compat

    out.write(render_compat(result.result, fmt))


def _pruned(result, fmt: str, out: TextIO) -> None:
    out.write("".join(f"dropped {n}\n" for n in result.dropped) or "no cached templates\n")


def _rules_text(result, fmt: str, out: TextIO) -> None:
    for r in result.rules:
        out.write(f"{r.rule}  {r.name:<40} {r.phase:<9} {r.severity or '-'}\n")


def _rules_json(result, fmt: str, out: TextIO) -> None:
    data = [{"rule": r.rule, "name": r.name, "phase": r.phase, "severity": r.severity} for r in result.rules]
    out.write(json.dumps(data, indent=2) + "\n")


def _rule_text(result, fmt: str, out: TextIO) -> None:
    from migrator.rules import explain_text

    out.write(explain_text(result.info))


def _rule_json(result, fmt: str, out: TextIO) -> None:
    out.write(json.dumps(result.info, indent=2) + "\n")


def _router_check(result, fmt: str, out: TextIO) -> None:
    from migrator.routers.check import render

    out.write(render(result.exit_code, result.to_dict(), fmt)[0])


def _fleet(result, fmt: str, out: TextIO) -> None:
    from migrator.fleet.render import render

    out.write(render(result.data, fmt))


def _demo(result, fmt: str, out: TextIO) -> None:
    """What follows the steps `migrator demo` showed as they ran: the verdict (text) or the whole document (json);
    the per-migration summary (json: on stderr) and unreadable revisions on stderr."""
    good, broken = result.good, result.broken
    if fmt == "json":
        data = result.report.to_dict()
        if good is not None and broken is not None:
            data = {"classification": data, "compat": {"green": good.to_dict(), "green-broken": broken.to_dict()}}
        out.write(json.dumps(data, indent=2) + "\n")
        out.flush()
        sys.stderr.write("".join(line + "\n" for line in result.summary))
    elif fmt == "text" and good is not None and broken is not None:
        blue_cell = broken.cell("blue", "expanded")
        caught = [f["test"] for f in (blue_cell.failures if blue_cell else [])]
        verdict = ("the good release passed and the broken one was caught by "
                   f"{caught[0] if caught else 'no test'}" + (f" and {len(caught) - 1} more" if len(caught) > 1 else ""))
        out.write(f"\ndemo: {verdict}\n")
        out.flush()
    for m in result.report.migrations:
        if m.error:
            sys.stderr.write(f"migrator: {m.error}\n")


def _nothing(result, fmt: str, out: TextIO) -> None:
    pass


_CLASSIFIED = {"ClassifyResult": _classify, "DemoResult": _demo}

RENDERERS: dict[str, dict[str, Renderer]] = {
    "text": {**_CLASSIFIED, "ReleaseResult": _release, "GateVerdict": _gate_text, "CompatOutcome": _compat,
             "PruneResult": _pruned, "RulesResult": _rules_text, "RuleResult": _rule_text,
             "RouterCheckResult": _router_check, "FleetResult": _fleet, "ServeResult": _nothing},
    "json": {**_CLASSIFIED, "ReleaseResult": _release, "GateVerdict": _json_of, "CompatOutcome": _compat,
             "PruneResult": _pruned, "RulesResult": _rules_json, "RuleResult": _rule_json,
             "RouterCheckResult": _router_check, "FleetResult": _fleet, "ServeResult": _nothing},
    "markdown": {"ReleaseResult": _release},
    "sarif": dict(_CLASSIFIED),
    "github": dict(_CLASSIFIED),
}


def render(result: Any, fmt: str, out: TextIO) -> None:
    try:
        renderer = RENDERERS[fmt][type(result).__name__]
    except KeyError:
        raise UsageError(f"--format {fmt} is not available for this command") from None
    renderer(result, fmt, out)


# --- a failed command's JSON document on stdout (text formats: only the stderr line) ----------------------------


def _release_error(command: str, exc: BaseException, code: int, extra: dict) -> str:
    from migrator.release.result import error_result

    return json.dumps({**error_result(command, exc, code).to_dict(), **extra}, indent=2, default=str) + "\n"


def _fleet_error(command: str, exc: BaseException, code: int, extra: dict) -> str:
    return json.dumps({"command": command, "result": "refused" if code == 1 else "error", "exit_code": code,
                       "message": " ".join(str(exc).split())}, indent=2) + "\n"


ERROR_RENDERERS: dict[str, dict[str, Callable[[str, BaseException, int, dict], str]]] = {
    "json": {"release": _release_error, "fleet": _fleet_error},
}


def render_error(kind: str | None, fmt: str, command: str, exc: BaseException, code: int,
                 extra: dict | None = None) -> str:
    """The JSON document of a failed command (`kind`: release or fleet), "" where the format has none."""
    renderer = ERROR_RENDERERS.get(fmt, {}).get(kind or "")
    return renderer(command, exc, code, extra or {}) if renderer else ""
