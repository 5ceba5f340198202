"""`migrator migrate`: apply the release's migrate revisions (data changes; batched, resumable backfills)."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.commands.options import ReleaseOptions
from migrator.release.result import ReleaseResult


@dataclass
class MigrateRequest:
    options: ReleaseOptions = field(default_factory=ReleaseOptions)


def migrate(request: MigrateRequest) -> ReleaseResult:
    from migrator.release import commands

    return ReleaseResult.from_dict(commands.migrate(request.options.context()))
