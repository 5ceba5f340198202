"""The glue behind `migrator demo`: run the story, print each step."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def run_demo_command(fmt: str, config_path: str | None, verbose: bool, provider: str, database_url: str | None,
                     classify_only: bool) -> int:
    from migrator import api
    from migrator.compat.cli_support import _log_to_stderr
    from migrator.compat.render import render_compat
    from migrator.config import load_config
    from migrator.demo import run_story, story_exit_code
    from migrator.errors import MigratorError
    from migrator.report import render

    try:
        cfg = load_config(Path(config_path) if config_path else None)
        if classify_only:
            report, good, broken = api.demo(config=cfg), None, None
        else:
            _log_to_stderr()
            report, good, broken = run_story(provider, database_url or os.environ.get("MIGRATOR_SCRATCH_URL"))
    except MigratorError as exc:
        sys.stderr.write(f"migrator: {exc}\n")
        return getattr(exc, "exit_code", 2)
    summary = api.phase_summary(report)
    if fmt == "json":
        data = report.to_dict()
        if good is not None:
            data = {"classification": data, "compat": {"green": good.to_dict(), "green-broken": broken.to_dict()}}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        sys.stderr.write("".join(line + "\n" for line in summary))
    elif fmt == "text":
        sys.stdout.write(render(report, fmt, verbose=verbose))
        sys.stdout.write("\n" + "".join(line + "\n" for line in summary))
        if good is not None:
            sys.stdout.write("\n== compat: the good release (blue's suite on the expanded schema; --full)\n")
            sys.stdout.write(render_compat(good, "text"))
            sys.stdout.write("\n== compat: the broken release (its expand trigger rejects blue's rows)\n")
            sys.stdout.write(render_compat(broken, "text"))
            caught = [f["test"] for c in broken.cells for f in c.failures]
            verdict = ("the good release passed and the broken one was caught by "
                       f"{caught[0] if caught else 'no test'}" + (f" and {len(caught) - 1} more" if len(caught) > 1 else ""))
            sys.stdout.write(f"\ndemo: {verdict}\n")
    else:
        sys.stdout.write(render(report, fmt, verbose=verbose))
    for m in report.migrations:
        if m.error:
            sys.stderr.write(f"migrator: {m.error}\n")
    if good is None:
        return api.demo_exit_code(report)
    return story_exit_code(report, good, broken)
