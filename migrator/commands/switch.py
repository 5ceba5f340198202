"""`migrator switch`: move traffic to green through the router hook, after the switch gate."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.commands.options import ReleaseOptions
from migrator.release.result import ReleaseResult


@dataclass
class SwitchRequest:
    options: ReleaseOptions = field(default_factory=ReleaseOptions)
    to_color: str = "green"
    evidence: str | None = None


def switch(request: SwitchRequest) -> ReleaseResult:
    from migrator.release import commands

    return ReleaseResult.from_dict(commands.switch(request.options.context(to_color=request.to_color, evidence=request.evidence)))
