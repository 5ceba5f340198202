"""`migrator fleet plan|expand|migrate|contract|status`: the fleet's config, shard and waves, then the runner or
the status reader; a result dict and an exit code (0 ok, 1 a database refused / not ready, 2 usage or
infrastructure). migrator.cli only parses options and prints."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.errors import UsageError
from migrator.fleet import runner, status
from migrator.fleet.config import list_databases, load_fleet_config
from migrator.fleet.shards import parse_shard
from migrator.fleet.waves import plan_waves

if TYPE_CHECKING:
    from migrator.release.commands import ReleaseContext

COMMANDS = (*runner.PHASES, "status")


@dataclasses.dataclass
class FleetOptions:
    command: str
    template: ReleaseContext  # unresolved (its database_url stays unset)
    shard: str | None = None
    concurrency: int | None = None
    waves: str | None = None
    canary: str | None = None
    after_switch: bool = False
    wave_wait: float = 0.0


def _pyproject(template: ReleaseContext) -> Path | None:
    if template.config_path:
        return Path(template.config_path)
    candidate = Path(template.project_dir).resolve() / "pyproject.toml"
    if candidate.is_file():
        return candidate
    from migrator.config import find_pyproject

    return find_pyproject(Path(template.project_dir).resolve())


def _canary_value(text: str | None):
    if text is None:
        return None
    return int(text) if text.strip().isdigit() else text


def prepare(options: FleetOptions):
    """(config, the whole fleet, its waves, the shard): everything a command needs before any database."""
    if options.command not in COMMANDS:
        raise UsageError(f"unknown fleet command {options.command!r} (plan, expand, migrate, contract, status)")
    if options.wave_wait < 0:
        raise UsageError("--wave-wait must be >= 0 seconds")
    if options.template.config_path and not Path(options.template.config_path).is_file():
        raise UsageError(f"config file not found: {options.template.config_path}")
    cfg = load_fleet_config(_pyproject(options.template),
                            {"concurrency": options.concurrency, "waves": options.waves,
                             "canary": _canary_value(options.canary)})
    shard = parse_shard(options.shard)
    fleet = list_databases(cfg)
    waves = plan_waves(fleet, cfg.canary, cfg.waves)
    return cfg, fleet, waves, shard


def run(options: FleetOptions) -> tuple[dict, int]:
    cfg, fleet, waves, shard = prepare(options)
    if options.command == "status":
        return fleet_status(options, cfg, fleet, waves, shard)
    fleet_run = runner.FleetRun(options.command, options.template, waves, shard, cfg.concurrency,
                                release_id=options.template.release_id, after_switch=options.after_switch,
                                wave_wait=options.wave_wait)
    runner.execute(fleet_run)
    return _run_result(fleet_run, fleet, waves, cfg), _exit_code(fleet_run)


def _exit_code(fleet_run) -> int:
    if fleet_run.stopped is not None:
        codes = [o.exit_code for o in fleet_run.outcomes if o.result == "failed"]
        return 2 if 2 in codes else max(codes)
    if fleet_run.blocked is not None:
        return fleet_run.blocked_code
    return 0


def _run_result(fleet_run, fleet, waves, cfg) -> dict:
    outcomes = fleet_run.outcomes
    order = {m.identity: i for i, m in enumerate(fleet)}
    outcomes.sort(key=lambda o: order[o.member.identity])
    tally: dict[str, int] = {}
    for o in outcomes:
        tally[o.result] = tally.get(o.result, 0) + 1
    wave_rows = []
    for wave in waves:
        rows = [o for o in outcomes if o.wave == wave.name]
        if not rows:
            continue
        counts: dict[str, int] = {}
        for o in rows:
            counts[o.result] = counts.get(o.result, 0) + 1
        wave_rows.append({**wave.to_dict(), "databases": len(rows), "counts": counts})
    stopped = fleet_run.stopped
    result = "failed" if stopped else ("blocked" if fleet_run.blocked else "ok")
    if stopped:
        message = (f"wave {stopped.wave} stopped at its first failure: {stopped.member.shown}: {stopped.message}; "
                   f"{tally.get('not_started', 0)} database(s) not started. Fix it and re-run `migrator fleet "
                   f"{fleet_run.phase}`: databases already through it are skipped")
    elif fleet_run.blocked:
        message = fleet_run.blocked
    else:
        message = (f"{fleet_run.phase}: {tally.get('done', 0)} done, "
                   f"{tally.get('skipped', 0) + tally.get('noop', 0)} already, of {len(outcomes)} database(s)")
    return {"command": f"fleet {fleet_run.phase}", "result": result, "release_id": fleet_run.release_id,
            "shard": str(fleet_run.shard), "fleet_size": len(fleet), "databases_here": len(outcomes),
            "concurrency": cfg.concurrency, "counts": tally, "waves": wave_rows,
            "failed": stopped.to_dict() if stopped else None, "blocked": fleet_run.blocked,
            "databases": [o.to_dict() for o in outcomes], "message": message}


def fleet_status(options: FleetOptions, cfg, fleet, waves, shard) -> tuple[dict, int]:
    template = dataclasses.replace(options.template)
    template.database_url = "postgresql://unset"  # each database gets its own below
    ctx = template.resolve(need_alembic=False)
    canary = waves[0].members[0]
    release_id, canary_state = status.fleet_release_id(ctx, canary, options.template.release_id)
    members = [m for m in fleet if shard.holds(m.identity)]
    states = status.read_many(ctx, members, release_id, cfg.concurrency, verify=True)
    out = status.summarize(waves, states, release_id, canary_state, shard)
    tampered = [s for s in states if s.verified is False]
    out["tampered"] = len(tampered)
    code = 0
    if out["errors"] or tampered:
        code = 2
        problems = [f"{s.member.shown}: {s.error}" for s in states if s.state == status.ERROR][:3]
        problems += [f"{s.member.shown}: ledger changed outside migrator" for s in tampered][:3]
        out["result"] = "error"
        out["message"] = (f"{out['errors']} database(s) could not be read, {len(tampered)} ledger(s) do not verify: "
                          + "; ".join(problems))
    return out, code
