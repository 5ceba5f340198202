"""`migrator expand`: after the expand gate, apply the release's expand revisions (blue keeps working)."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.commands.options import ReleaseOptions
from migrator.release.result import ReleaseResult


@dataclass
class ExpandRequest:
    options: ReleaseOptions = field(default_factory=ReleaseOptions)
    evidence: str | None = None  # evidence JSON of `migrator compat --evidence FILE`


def expand(request: ExpandRequest) -> ReleaseResult:
    from migrator.release import commands

    return ReleaseResult.from_dict(commands.expand(request.options.context(evidence=request.evidence)))
