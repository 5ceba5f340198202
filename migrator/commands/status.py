"""`migrator status`: the release's state, evidence, gates (evaluated, not enforced), recent events, next command."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.commands.options import ReleaseOptions
from migrator.release.result import ReleaseResult


@dataclass
class StatusRequest:
    options: ReleaseOptions = field(default_factory=ReleaseOptions)
    evidence: str | None = None  # also evaluate the next gate with this evidence file


def status(request: StatusRequest) -> ReleaseResult:
    from migrator.release import commands

    result = ReleaseResult.from_dict(commands.status(request.options.context(evidence=request.evidence)))
    if result.exit_code:  # a tampered ledger: shown, and exit 2
        result.complaint = result.message
    return result
