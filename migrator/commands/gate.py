"""`migrator gate switch|contract`: evaluate a gate without acting, as `migrator switch|contract` would decide now."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from migrator.commands.options import ReleaseOptions


@dataclass
class GateRequest:
    gate: str  # switch or contract
    options: ReleaseOptions = field(default_factory=ReleaseOptions)
    evidence: str | None = None  # switch: required; contract: default the evidence recorded at the switch


@dataclass
class GateVerdict:
    """migrator.release.verdict's result; the JSON output is these fields, in this order."""

    command: str
    gate: str
    passed: bool
    result: str  # pass or refused
    checks: list[dict]  # {"name", "passed", "status", "detail"}, in the command's order
    reasons: list[str]
    release: dict | None
    database: str
    ledger_schema: str
    evaluated_at: str

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def complaint(self) -> str | None:
        return None if self.passed else f"{self.gate} gate refused: " + "; ".join(self.reasons)


def gate(request: GateRequest) -> GateVerdict:
    from migrator.release.verdict import gate_command

    return GateVerdict(**gate_command(request.options.context(evidence=request.evidence), request.gate))
