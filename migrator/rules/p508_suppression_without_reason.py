from migrator.phases import Phase, Severity
from migrator.rules._base import Rule


class SuppressionWithoutReason(Rule):
    """Suppression without a reason.

    ## What it does
    Reports a `migrator: ignore <rule>` comment that gives no `reason: ...`.
    The comment then suppresses nothing.

    ## Why is this bad?
    A suppression is a reviewed exception. Without a reason, the next reader
    cannot tell a deliberate decision from a silenced warning.

    ## Use instead
    `-- migrator: ignore C317 reason: column unused since release 41`.
    """

    id, name, phase, severity = "P508", "suppression-without-reason", Phase.NONE, Severity.ERROR
    classifies = False
    fix = "add `reason: <why this is safe>` to the ignore comment"

    def check(self, stmt, ctx):
        return ()
