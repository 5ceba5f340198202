"""`migrator router check`: ask the configured router which colour is live. Nothing is switched or recorded.

Exit codes: 0 the router named the live colour (and it is --expect's, when given); 1 it named another colour than
--expect; 2 the router could not be asked or named no colour (nginx down, a hook that fails, a bad configuration).
"""

from __future__ import annotations

import json
from pathlib import Path

from migrator.errors import ConfigError
from migrator.escape import escape_controls
from migrator.routers.base import hook_name, why_not
from migrator.routers.protocol import COLORS, HookResponse, ResponseError


def ask(hook) -> tuple[str | None, str]:
    """(the live colour or None, what the router said). Never raises: a router's exception is an answer too.
    Uses the router's `describe_current()` when it has one (a response with the reason), else `current()`."""
    name = hook_name(hook)
    try:
        if callable(getattr(hook, "describe_current", None)):
            response = HookResponse.coerce(hook.describe_current())
            color = response.observed_color if response.ok else None
            return color, (response.message or "") if color else why_not(response)
        color = hook.current()
    except ResponseError as exc:
        return None, f"{name}: invalid response: {exc}"
    except Exception as exc:  # noqa: BLE001 - a third-party router's bug is reported, not raised
        return None, f"{name} current() raised {type(exc).__name__}: {exc}"
    if color not in COLORS:
        return None, f"{name} did not name a colour" + (f" (it answered {color!r})" if color is not None else "")
    return color, ""


def router_check(config: str | None = None, project_dir: str = ".", expect: str | None = None) -> tuple[int, dict]:
    """Load [tool.migrator.hook] (from `config`, else <project_dir>/pyproject.toml) and ask the router.
    Returns (exit code, result: router, kind, active_color, expected, message)."""
    from migrator.routers.registry import get_hook, hook_config

    if expect is not None and expect not in COLORS:
        raise ConfigError(f"--expect must be blue or green, not {expect!r}")
    pyproject = Path(config) if config else Path(project_dir) / "pyproject.toml"
    if config and not pyproject.is_file():
        raise ConfigError(f"config file not found: {pyproject}")
    table = hook_config(pyproject)
    base = pyproject.resolve().parent if config else Path(project_dir).resolve()
    hook = get_hook(table, project_dir=base)
    color, message = ask(hook)
    result = {"router": hook_name(hook), "kind": table.get("kind", "command"), "active_color": color,
              "expected": expect, "message": message}
    if color is None:
        return 2, result
    if expect is not None and color != expect:
        return 1, result
    return 0, result


def render(code: int, result: dict, fmt: str = "text") -> tuple[str, str]:
    """(stdout, stderr) of the command; text with control characters escaped."""
    out, err = _render(code, result, fmt)
    return (out if fmt == "json" else escape_controls(out)), escape_controls(err)


def _render(code: int, result: dict, fmt: str) -> tuple[str, str]:
    if fmt == "json":
        err = "" if code == 0 else f"migrator: {problem(code, result)}\n"
        return json.dumps(result, indent=2) + "\n", err
    if code == 2:
        return "", f"migrator: {problem(code, result)}\n"
    detail = f" ({result['message']})" if result["message"] else ""
    out = f"live colour: {result['active_color']}\nrouter {result['router']!r}{detail}\n"
    return out, ("" if code == 0 else f"migrator: {problem(code, result)}\n")


def problem(code: int, result: dict) -> str:
    """Why the exit code is not 0, in one line."""
    if code == 1:
        return f"router {result['router']!r} serves {result['active_color']}, not {result['expected']}"
    return f"router {result['router']!r} cannot tell the live colour: {' '.join(result['message'].split())}"
