"""The glue behind `migrator demo`: run the story, print each step."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def run_demo_command(fmt: str, config_path: str | None, verbose: bool, provider: str, database_url: str | None,
                     classify_only: bool) -> int:
    """Each step's heading and result reach stdout (flushed) before the next step's output reaches stderr, so a
    CI log that merges the two reads in order."""
    from migrator import api
    from migrator.compat.cli_support import log_to_stderr
    from migrator.compat.render import render_compat
    from migrator.config import load_config
    from migrator.demo import story_exit_code, story_steps
    from migrator.errors import MigratorError
    from migrator.report import render

    def say(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        cfg = load_config(Path(config_path) if config_path else None)
        report = api.demo(config=cfg)
        summary = api.phase_summary(report)
        if fmt == "text":
            say(render(report, fmt, verbose=verbose) + "\n" + "".join(line + "\n" for line in summary))
        elif fmt != "json":
            say(render(report, fmt, verbose=verbose))
        results = {}
        if not classify_only:
            log_to_stderr()
            for name, heading, run in story_steps(provider, database_url or os.environ.get("MIGRATOR_SCRATCH_URL"),
                                                  cfg):
                if fmt == "text":
                    say(f"\n== compat: {heading}\n")
                results[name] = run()
                if fmt == "text":
                    say(render_compat(results[name], "text"))
    except MigratorError as exc:
        sys.stderr.write(f"migrator: {exc}\n")
        return getattr(exc, "exit_code", 2)
    # story_steps runs both steps, and a failed one returned above: both results or neither
    good, broken = results.get("green"), results.get("green-broken")
    if fmt == "json":
        data = report.to_dict()
        if good is not None:
            assert broken is not None
            data = {"classification": data, "compat": {"green": good.to_dict(), "green-broken": broken.to_dict()}}
        say(json.dumps(data, indent=2) + "\n")
        sys.stderr.write("".join(line + "\n" for line in summary))
    elif fmt == "text" and good is not None:
        assert broken is not None
        blue_cell = broken.cell("blue", "expanded")
        caught = [f["test"] for f in (blue_cell.failures if blue_cell else [])]
        verdict = ("the good release passed and the broken one was caught by "
                   f"{caught[0] if caught else 'no test'}" + (f" and {len(caught) - 1} more" if len(caught) > 1 else ""))
        say(f"\ndemo: {verdict}\n")
    for m in report.migrations:
        if m.error:
            sys.stderr.write(f"migrator: {m.error}\n")
    if good is None:
        return api.demo_exit_code(report)
    return story_exit_code(report, good, broken)
