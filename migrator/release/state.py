"""The release state machine: which command may run in which state, and what comes next."""

from __future__ import annotations

from migrator.release.errors import PreconditionFailed

PLANNED, EXPANDED, MIGRATED, SWITCHED, ROLLED_BACK, CONTRACTED = (
    "planned", "expanded", "migrated", "switched", "rolled_back", "contracted")
STATES = (PLANNED, EXPANDED, MIGRATED, SWITCHED, ROLLED_BACK, CONTRACTED)

# command -> (states it may start from, state it leaves the release in)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "expand": ((PLANNED,), EXPANDED),
    "migrate": ((EXPANDED,), MIGRATED),
    "switch": ((MIGRATED, ROLLED_BACK), SWITCHED),
    "rollback": ((SWITCHED,), ROLLED_BACK),
    "contract": ((SWITCHED,), CONTRACTED),
}

# the command that moves a release out of each state, in the normal flow
NEXT_COMMAND = {
    PLANNED: "migrator expand --evidence <compat evidence>",
    EXPANDED: "migrator migrate",
    MIGRATED: "migrator switch --to green --evidence <compat evidence>",
    SWITCHED: "migrator contract",
    ROLLED_BACK: "migrator switch --to green --evidence <compat evidence>",
    CONTRACTED: None,
}

# what a command needs done before it, by state it requires, for the error message
_PRIOR = {EXPANDED: "migrator expand", MIGRATED: "migrator migrate", SWITCHED: "migrator switch --to green"}


def done(command: str, state: str) -> bool:
    """True when the release already went through `command` (a re-run is a no-op)."""
    order = {PLANNED: 0, EXPANDED: 1, MIGRATED: 2, SWITCHED: 3, ROLLED_BACK: 3, CONTRACTED: 4}
    target = TRANSITIONS[command][1]
    if command in ("switch", "rollback"):
        return state == target
    return order[state] >= order[target]


def require(command: str, release_id: str, state: str) -> None:
    """Raise PreconditionFailed naming the missing step when `command` cannot run in `state`."""
    allowed, _ = TRANSITIONS[command]
    if state in allowed:
        return
    if state == CONTRACTED:
        raise PreconditionFailed(f"cannot {command}: release {release_id} is contracted (blue's schema is gone; "
                                 "only a new release can change it)")
    if command == "rollback":
        raise PreconditionFailed(f"cannot roll back: release {release_id} is {state!r}, traffic is not on green")
    needed = allowed[0]
    raise PreconditionFailed(f"cannot {command}: release {release_id} is {state!r}, it must be "
                             f"{' or '.join(repr(s) for s in allowed)}", _PRIOR.get(needed))
