"""`migrator rollback`: send traffic back to blue (only before contract; applied revisions stay)."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.commands.options import ReleaseOptions
from migrator.release.result import ReleaseResult


@dataclass
class RollbackRequest:
    options: ReleaseOptions = field(default_factory=ReleaseOptions)


def rollback(request: RollbackRequest) -> ReleaseResult:
    from migrator.release import commands

    return ReleaseResult.from_dict(commands.rollback(request.options.context()))
