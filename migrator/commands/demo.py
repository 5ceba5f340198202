"""`migrator demo`: the whole story on the demo app: classify its release, then prove it with blue's own tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrator.compat.result import CompatResult
    from migrator.model import Report


@dataclass
class DemoRequest:
    fmt: str = "text"  # the steps are shown as they run (text; sarif and github: the classification)
    config_path: str | None = None
    verbose: bool = False
    provider: str = "embedded"
    scratch_url: str | None = None  # [default: $MIGRATOR_SCRATCH_URL]
    classify_only: bool = False


@dataclass
class DemoResult:
    fmt: str
    report: Report
    summary: list[str]  # one line per migration: `0003 expand (declared expand) ok`
    good: CompatResult | None = None  # None: --classify-only
    broken: CompatResult | None = None

    @property
    def exit_code(self) -> int:
        from migrator import api
        from migrator.demo import story_exit_code

        if self.good is None or self.broken is None:
            return api.demo_exit_code(self.report)
        return story_exit_code(self.report, self.good, self.broken)

    complaint = None


def demo(request: DemoRequest, say: Callable[[str], None]) -> DemoResult:
    """Each step's heading and result go to `say` (stdout, flushed) before the next step's output reaches stderr,
    so that a CI log that merges the two reads in order; the verdict is the result's to render."""
    from migrator import api
    from migrator.compat.render import render_compat
    from migrator.config import load_config
    from migrator.demo import story_steps
    from migrator.report import render

    fmt = request.fmt
    cfg = load_config(Path(request.config_path) if request.config_path else None)
    report = api.demo(config=cfg)
    summary = api.phase_summary(report)
    if fmt == "text":
        say(render(report, fmt, verbose=request.verbose) + "\n" + "".join(line + "\n" for line in summary))
    elif fmt != "json":
        say(render(report, fmt, verbose=request.verbose))
    results = {}
    if not request.classify_only:
        url = request.scratch_url or os.environ.get("MIGRATOR_SCRATCH_URL")
        for name, heading, run in story_steps(request.provider, url, cfg):
            if fmt == "text":
                say(f"\n== compat: {heading}\n")
            results[name] = run()
            if fmt == "text":
                say(render_compat(results[name], "text"))
    # story_steps runs both steps, and a failed one raised: both results or neither
    return DemoResult(fmt, report, summary, results.get("green"), results.get("green-broken"))
