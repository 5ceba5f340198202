"""`migrator plan`: plan green's release against the live database and record it as planned."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.commands.options import ReleaseOptions
from migrator.release.result import ReleaseResult


@dataclass
class PlanRequest:
    options: ReleaseOptions = field(default_factory=ReleaseOptions)
    blue: str | None = None  # git ref of blue [default: green of the last contracted release]
    record: bool = True  # False: only show the plan, write nothing
    fail_on: str | None = None  # error or warning: exit 1 on findings at or above it [default: never]


def plan(request: PlanRequest) -> ReleaseResult:
    from migrator.release import commands
    from migrator.release.plan import findings_at

    result = ReleaseResult.from_dict(commands.plan(request.options.context(blue=request.blue,
                                                                           record=request.record)))
    if request.fail_on is not None and result.plan:
        found = findings_at(result.plan, request.fail_on)
        if found:
            rules = ", ".join(sorted({f["rule"] for f in found}))
            result.exit_code = 1  # not a field of the JSON output: the plan itself is the same
            result.complaint = (f"plan: {len(found)} finding{'s' if len(found) > 1 else ''} at or above "
                                f"{request.fail_on} ({rules}): exit 1 (--fail-on {request.fail_on})")
    return result
