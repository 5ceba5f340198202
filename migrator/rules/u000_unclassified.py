from migrator.phases import Phase, Severity
from migrator.rules._base import Rule


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
        return ()
