"""A gate evaluated without acting: what `migrator switch` or `migrator contract` would decide now.

    result = evaluate(ctx, "switch")      # {"gate", "passed", "checks": [{"name", "passed", "status", "detail"}],
                                          #  "reasons", "release", "database", ...}

`migrator gate switch|contract` and `migrator serve` call this. The checks are the command's own, in its order:
the release's state (the state machine the command checks first), the alembic revision against the ledger, and
then the gate through commands.command_gate, the function the command itself calls (evidence, live schema,
router hook; for contract traffic on green, soak, rollback, blue sessions and the live-data preflight).

Nothing is recorded and nothing moves: no coordinator lock, the ledger is neither created nor upgraded, a release
left 'switching' is not reconciled (the gate refuses until a command did), and the session's transactions are
READ ONLY, so an accidental write fails instead of changing the ledger. The router hook is asked its read-only
questions (the pre-switch check, the verify of green), as the command asks them before it acts.

Errors (exit 2: no database, database down, a tampered or unknown ledger, drift from alembic_version, an
unusable evidence file or configuration) are raised as the command raises them; a reason to refuse (exit 1)
is a failed check.
"""

from __future__ import annotations

from datetime import datetime, timezone

from migrator.release import state as st
from migrator.release.errors import PreconditionFailed
from migrator.release.gates import FAIL, PASS, Check, GateResult

GATES = ("switch", "contract")


def evaluate(ctx, name: str) -> dict:
    """The `name` gate ("switch" or "contract") of the release in flight (or ctx.release_id), as a result dict."""
    from migrator.errors import ConfigError, UsageError
    from migrator.release import commands as cmd
    from migrator.release.ledger import Ledger

    if name not in GATES:
        raise UsageError(f"unknown gate {name!r}: use switch or contract")
    ctx.resolve(need_alembic=False)
    if name == "contract" and not (ctx.project_dir / ctx.alembic_ini).is_file():  # its preflight reads them
        raise ConfigError(f"alembic config {ctx.alembic_ini} not found in {ctx.project_dir}: the contract gate "
                          "counts the contract revisions' failing rows, so it runs from green's checkout")
    with cmd.session(ctx, lock=False, ensure=False, read_only=True) as (conn, _):
        if not cmd.ledger_exists(conn, ctx.schema):
            return _result(ctx, name, [Check("release", FAIL, f"no ledger in schema {ctx.schema!r}: no release was "
                                                              "planned (run `migrator plan --blue <ref>`)")])
        ledger = Ledger(conn, schema=ctx.schema)
        cmd.check_ledger(ledger, name)  # an unknown version or a broken chain: exit 2, as for the command
        try:
            release = cmd.load_release(ledger, ctx, name)
        except PreconditionFailed as exc:
            return _result(ctx, name, [Check("release", FAIL, str(exc))])
        state = state_check(name, release)
        if state.status != PASS:  # the command stops here too: the gate's own checks are not asked
            return _result(ctx, name, [state], release)
        cmd.check_alembic(conn, release)
        checks = [state]
        if name == "contract":
            checks.append(_checkout_check(ctx, release))
        evidence = cmd._read_evidence(ctx)
        gate, _ = cmd.command_gate(name, ctx, conn, ledger, release, evidence, cmd._signing(ctx), cmd._hook(ctx))
        return _result(ctx, name, checks + list(gate.checks), release)


def gate_command(ctx, name: str) -> dict:
    """`migrator gate NAME`: the switch gate needs --evidence FILE, as `migrator switch` does (exit 2 without);
    contract falls back on the evidence the ledger recorded at the switch, as `migrator contract` does."""
    from migrator.errors import UsageError

    if name == "switch" and ctx.evidence is None:
        raise UsageError("gate switch needs --evidence FILE: the evidence JSON of `migrator compat --evidence "
                         "FILE`, as `migrator switch` does")
    return evaluate(ctx, name)


def state_check(name: str, release) -> Check:
    """May `migrator <name>` act on the release in its state? As the command decides, without reconciling a
    release left 'switching' (that records the router's answer: only a command does it)."""
    if release.state == st.SWITCHING:
        return Check("state", FAIL, f"release {release.id} is 'switching': a switch or rollback was interrupted; "
                                    "`migrator status` shows what the router says, and the next `migrator switch` "
                                    "or `migrator rollback` records it (a gate records nothing)")
    if st.done(name, release.state):
        return Check("state", FAIL, f"release {release.id} is already {release.state}: `migrator {name}` has "
                                    "nothing to do")
    try:
        st.require(name, release.id, release.state)
    except PreconditionFailed as exc:
        return Check("state", FAIL, str(exc))
    return Check("state", PASS, f"release {release.id} is {release.state!r}, traffic on "
                                f"{release.active_color or 'blue'}")


def _checkout_check(ctx, release) -> Check:
    from migrator.release.commands import check_checkout

    try:
        check_checkout(ctx, release, "contract")
    except PreconditionFailed as exc:
        return Check("checkout", FAIL, str(exc))
    return Check("checkout", PASS, f"contract revisions read from {ctx.project_dir}")


def _result(ctx, name: str, checks: list[Check], release=None) -> dict:
    from migrator.release.commands import safe_url

    gate = GateResult.of(name, checks)
    return {
        "command": "gate", "gate": name, "passed": gate.passed, "result": "pass" if gate.passed else "refused",
        "checks": [{"name": c.name, "passed": c.status == PASS, "status": c.status, "detail": c.detail}
                   for c in checks],
        "reasons": gate.reasons,
        "release": None if release is None else {
            "id": release.id, "state": release.state, "active_color": release.active_color,
            "blue": {"ref": release.blue_ref, "sha": release.blue_sha},
            "green": {"ref": release.green_ref, "sha": release.green_sha}},
        "database": safe_url(ctx.database_url), "ledger_schema": ctx.schema,
        "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def render_text(result: dict) -> str:
    """`switch gate: PASS` or `REFUSED`, the release, then one line per check as the commands print them."""
    from migrator.escape import escape_controls

    release = result.get("release")
    where = ""
    if release:
        where = f" (release {release['id']}, {release['state']}, traffic on {release['active_color'] or 'blue'})"
    out = [f"{result['gate']} gate: {'PASS' if result['passed'] else 'REFUSED'}{where}"]
    for check in result["checks"]:
        out.append(f"  {check['status']:<7} {check['name']}: {check['detail']}")
    return escape_controls("\n".join(out) + "\n")
