"""`migrator contract`: after the contract gate, apply the contract revisions: blue's schema goes, and rollback with it."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.commands.options import ReleaseOptions
from migrator.release.result import ReleaseResult


@dataclass
class ContractRequest:
    options: ReleaseOptions = field(default_factory=ReleaseOptions)
    evidence: str | None = None  # [default: the evidence recorded at the switch]


def contract(request: ContractRequest) -> ReleaseResult:
    from migrator.release import commands

    return ReleaseResult.from_dict(commands.contract(request.options.context(evidence=request.evidence)))
