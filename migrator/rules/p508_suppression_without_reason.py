from migrator.phases import Phase, Severity
from migrator.rules._base import Migration, MigrationRule


class SuppressionWithoutReason(MigrationRule):
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
    fix = "add `reason: <why this is safe>` to the ignore comment"
    suppressible = False  # an ignore comment must not silence the finding about itself

    def check_migration(self, migration: Migration):
        for sup in migration.suppressions:
            if sup.reason is None:
                yield self.hit(f"line {sup.line}: `migrator: ignore {', '.join(sup.rules)}` has no "
                               "`reason: ...`; the findings stay")
