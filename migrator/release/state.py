"""The release state machine: which command may run in which state, and what comes next."""

from __future__ import annotations

from migrator.release.errors import PreconditionFailed

PLANNED, EXPANDED, MIGRATED, SWITCHING, SWITCHED, ROLLED_BACK, CONTRACTED = (
    "planned", "expanded", "migrated", "switching", "switched", "rolled_back", "contracted")
STATES = (PLANNED, EXPANDED, MIGRATED, SWITCHING, SWITCHED, ROLLED_BACK, CONTRACTED)

# command -> (states it may start from, state it leaves the release in). SWITCHING is journaled before the router
# is asked to move (switch or rollback) and left once the router confirmed; a command that finds it reconciles
# with the router's `current` first (commands.reconcile).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "expand": ((PLANNED,), EXPANDED),
    "migrate": ((EXPANDED,), MIGRATED),
    "switch": ((MIGRATED, ROLLED_BACK, SWITCHING), SWITCHED),
    "rollback": ((SWITCHED, SWITCHING), ROLLED_BACK),
    "contract": ((SWITCHED,), CONTRACTED),
}

# the command that moves a release out of each state, in the normal flow
NEXT_COMMAND = {
    PLANNED: "migrator expand --evidence <compat evidence>",
    EXPANDED: "migrator migrate",
    MIGRATED: "migrator switch --to green --evidence <compat evidence>",
    SWITCHING: "migrator rollback",
    SWITCHED: "migrator contract",
    ROLLED_BACK: "migrator switch --to green --evidence <compat evidence>",
    CONTRACTED: None,
}

# the step that leaves each state, as a precondition message names it
_STEP = {PLANNED: "migrator expand", EXPANDED: "migrator migrate", MIGRATED: "migrator switch --to green",
         ROLLED_BACK: "migrator switch --to green", SWITCHED: "migrator contract"}
_ORDER = {PLANNED: 0, EXPANDED: 1, MIGRATED: 2, SWITCHING: 3, SWITCHED: 3, ROLLED_BACK: 3, CONTRACTED: 4}


def done(command: str, state: str) -> bool:
    """True when the release already went through `command` (a re-run is a no-op)."""
    target = TRANSITIONS[command][1]
    if command in ("switch", "rollback"):
        return state == target
    return _ORDER[state] >= _ORDER[target]


def require(command: str, release_id: str, state: str) -> None:
    """Raise PreconditionFailed naming the next missing step when `command` cannot run in `state`."""
    allowed, _ = TRANSITIONS[command]
    if state in allowed:
        return
    if state == CONTRACTED:
        raise PreconditionFailed(f"cannot {command}: release {release_id} is contracted (blue's schema is gone; "
                                 "only a new release can change it)")
    if state == SWITCHING:
        raise PreconditionFailed(f"cannot {command}: release {release_id} is 'switching' (a switch or rollback was "
                                 "interrupted and the router could not say where traffic is); run `migrator "
                                 "rollback` (back to blue) or `migrator switch --to green --evidence FILE` first")
    if command == "rollback":
        raise PreconditionFailed(f"cannot roll back: release {release_id} is {state!r}, traffic is not on green")
    raise PreconditionFailed(f"cannot {command}: release {release_id} is {state!r}, it must be "
                             f"{' or '.join(repr(s) for s in allowed if s != SWITCHING)}", _STEP.get(state))
