"""`migrator fleet plan|expand|migrate|contract|status`: one release across a fleet of databases."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.commands.options import ReleaseOptions
from migrator.errors import UsageError


@dataclass
class FleetRequest:
    command: str  # plan, expand, migrate, contract or status
    options: ReleaseOptions = field(default_factory=ReleaseOptions)
    blue: str | None = None  # plan
    evidence: str | None = None  # expand, contract
    shard: str | None = None  # I/N or auto/N
    concurrency: int | None = None
    waves: str | None = None  # P1,P2,...
    canary: str | None = None
    wave_wait: float = 0.0
    after_switch: bool = False  # contract


@dataclass
class FleetResult:
    data: dict  # migrator.fleet.commands' result (migrator.fleet.render renders it)
    exit_code: int  # 0 ok, 1 a database refused or is not ready, 2 usage or infrastructure

    @property
    def complaint(self) -> str | None:
        return (self.data.get("message") or "") if self.exit_code else None


def fleet(request: FleetRequest) -> FleetResult:
    from migrator.fleet.commands import FleetOptions, run

    if request.command == "migrate" and (request.evidence or request.options.force):
        raise UsageError("fleet migrate takes no --evidence or --force (migrate has no gate)")
    extra = {"blue": request.blue} if request.command == "plan" else {}
    template = request.options.context(evidence=request.evidence, **extra)
    data, code = run(FleetOptions(request.command, template, shard=request.shard, concurrency=request.concurrency,
                                  waves=request.waves, canary=request.canary, after_switch=request.after_switch,
                                  wave_wait=request.wave_wait))
    return FleetResult(data, code)
