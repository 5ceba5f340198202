from migrator.phases import Phase, Severity
from migrator.rules._base import Rule


class Unclassified(Rule):
    """Unclassified statement.

    ## What it does
    Reports a statement, or a part of an ALTER TABLE, that no rule understands:
    sqlglot could not parse it, or parsed it into a form no rule claims. The
    engine adds this finding itself; the statement counts as `contract`.

    ## Why is this bad?
    Unknown SQL is never assumed safe. It may drop, rename or lock something
    blue depends on, so migrator fails closed until a person has looked.

    ## Use instead
    Rewrite the statement in a form migrator understands, split it into
    simpler statements, or suppress the finding with a reason:
    `-- migrator: ignore U000 reason: reviewed by the DBA, safe because ...`.
    """

    id, name, phase, severity = "U000", "unclassified-statement", Phase.CONTRACT, Severity.ERROR
    fix = "rewrite it in a form migrator understands, or review it and add `-- migrator: ignore U000 reason: ...`"

    def check(self, stmt, ctx):
        return ()
