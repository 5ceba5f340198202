from sqlglot import exp

from migrator.phases import Phase, Severity
from migrator.rules._base import WHOLE, Hit, Rule
from migrator.sql.split import Statement
from migrator.sql.words import command_actions


class Unclassified(Rule):
    """Unclassified statement.

    ## What it does
    Reports a statement, or a part of an ALTER TABLE, that no rule understands:
    sqlglot could not parse it, or parsed it into a form no rule claims. The
    engine adds this finding itself; the statement counts as `contract`.

    A `DO` block is read: the statements of its PL/pgSQL body are classified
    like top-level ones (see docs/cli.md, "DO blocks"). U000 stays on what
    cannot be read in it, with the line in the file: `EXECUTE` of SQL built
    from a variable (`EXECUTE 'DROP TABLE ' || r.tablename`, `EXECUTE stmt`,
    `format('... %s', v)`), a condition that calls an unknown function,
    `CALL`, a body in another language or one PostgreSQL would reject.

    ## Why is this bad?
    Unknown SQL is never assumed safe. It may drop, rename or lock something
    blue depends on, so migrator fails closed until a person has looked.

    ## Use instead
    Rewrite the statement in a form migrator understands, split it into
    simpler statements (in a DO block: plain statements, or `EXECUTE
    format('ALTER TABLE %I ...', v)` with a literal format string instead of
    SQL glued from variables), or suppress the finding with a reason:
    `-- migrator: ignore U000 reason: reviewed by the DBA, safe because ...`.
    """

    id, name, phase, severity = "U000", "unclassified-statement", Phase.CONTRACT, Severity.ERROR
    fix = "rewrite it in a form migrator understands, or review it and add `-- migrator: ignore U000 reason: ...`"

    def check(self, stmt, ctx):
        return ()  # the engine asks `unclaimed` after the classifying rules ran

    def unclaimed(self, stmt: Statement, hits: list[Hit]) -> Hit | None:
        """U000 for a statement no classifying hit claims, or an ALTER TABLE with an action none claims."""
        uncovered = _uncovered_actions(stmt, hits)
        if hits and not uncovered:
            return None
        what = stmt.error or (f"no rule understands part {uncovered[0] + 1} of this statement" if uncovered and hits
                              else "no rule understands this statement")
        return self.hit(f"unclassified statement ({what}); treated as contract")

    def unread(self, what: str, line: int | None = None) -> Hit:
        """U000 for SQL that could not be read (a DO block's body, a part of it): `what` says why."""
        return self.hit(f"{'' if line is None else f'line {line}: '}{what}; treated as contract", line=line)


def _uncovered_actions(stmt: Statement, hits: list[Hit]) -> list[int]:
    """ALTER TABLE actions no classifying hit claims."""
    if any(h.action == WHOLE for h in hits):
        return []
    if isinstance(stmt.node, exp.Alter):
        count = len(stmt.node.args.get("actions") or [])
        if stmt.words[:2] == ("ALTER", "TABLE"):
            # sqlglot silently drops trailing actions of some mixed statements
            # (`ALTER COLUMN a SET DEFAULT 0, SET (fillfactor = 70)`): count the token slices too
            count = max(count, len(command_actions(stmt)))
    elif stmt.is_command and stmt.words[:2] == ("ALTER", "TABLE"):
        count = len(command_actions(stmt))
    else:
        return []
    claimed = {h.action for h in hits}
    return [i for i in range(count) if i not in claimed]
