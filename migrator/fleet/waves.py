"""The waves of a fleet release: the canary first, then cumulative percentages of the rest.

    fleet of 41, canary 1, waves [10, 50, 100]:  canary: 1   wave 1: 4   wave 2: 16   wave 3: 20

Waves are computed on the whole fleet, in the source's order (so every shard sees the same waves); a shard then
runs its own databases of each wave. A percentage's boundary is rounded up (a wave of 10% of 5 databases holds
one). A wave that would be empty is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from migrator.errors import ConfigError
from migrator.fleet.config import Member


@dataclass
class Wave:
    name: str  # "canary", "1", "2", ...
    members: list[Member]
    percent: float | None = None  # cumulative, of the rest (None: the canary)

    def to_dict(self) -> dict:
        return {"wave": self.name, "percent": self.percent, "databases": len(self.members)}


def pick_canary(fleet: list[Member], canary: int | str) -> list[Member]:
    """The canary database(s): the first `canary` ones for a count, else the one named (a URL, host:port/dbname
    or a database name)."""
    if isinstance(canary, int):
        return fleet[:canary]
    from migrator.fleet.config import identity

    wanted = canary.strip()
    try:
        wanted_identity = identity(wanted) if ("://" in wanted or "=" in wanted) else None
    except Exception:  # noqa: BLE001 - not an address: a name
        wanted_identity = None
    found = [m for m in fleet if m.identity in (wanted, wanted_identity) or m.identity.rsplit("/", 1)[1] == wanted]
    if len(found) != 1:
        raise ConfigError(f"canary {wanted!r} matches {len(found)} databases of the fleet; name exactly one "
                          "(its URL, host:port/dbname, or its database name when unique)")
    return found


def plan_waves(fleet: list[Member], canary: int | str, percents: list[float]) -> list[Wave]:
    first = pick_canary(fleet, canary)
    chosen = {m.identity for m in first}
    rest = [m for m in fleet if m.identity not in chosen]
    waves = [Wave("canary", first)]
    start = 0
    for number, percent in enumerate(percents, 1):
        end = len(rest) if percent >= 100 else min(len(rest), math.ceil(len(rest) * percent / 100.0))
        if end > start:
            waves.append(Wave(str(number), rest[start:end], percent))
            start = end
    return waves
