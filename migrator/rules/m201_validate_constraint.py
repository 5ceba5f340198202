from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._base import Rule
from migrator.sql.words import alter_target, command_actions


class ValidateConstraint(Rule):
    """Validate constraint.

    ## What it does
    Finds `ALTER TABLE ... VALIDATE CONSTRAINT` (sqlglot cannot parse it; read
    from tokens). It checks existing rows against a constraint added
    `NOT VALID`, under SHARE UPDATE EXCLUSIVE, which does not block reads or
    writes. It is reported as a warning when the constraint was added in the
    same transaction, where the ADD's ACCESS EXCLUSIVE lock is still held
    during the whole scan.

    ## Why is this bad?
    On its own it is the safe second step. In the transaction that added the
    constraint it scans the table while writes are blocked.

    ## Use instead
    Commit the `ADD CONSTRAINT ... NOT VALID` first, then validate in a later
    transaction (migrate phase, after a backfill has fixed old rows).
    """

    id, name, phase, severity = "M201", "validate-constraint", Phase.MIGRATE, Severity.INFO
    lock = Lock.SHARE_UPDATE_EXCLUSIVE
    rewrite = Rewrite.SCAN
    commands = (("ALTER", "TABLE"),)

    def check(self, stmt, ctx):
        table, _ = alter_target(stmt.words)
        for i, action in enumerate(command_actions(stmt)):
            if action[:2] == ("VALIDATE", "CONSTRAINT") and len(action) == 3:
                name = action[2].lower()
                if name in ctx.not_valid_in_transaction:
                    yield self.hit(f"validates {name} on {table} in the transaction that added it: the scan runs "
                                   "under the ADD's ACCESS EXCLUSIVE lock", table=table, action=i,
                                   severity=Severity.WARNING,
                                   fix="commit the ADD CONSTRAINT ... NOT VALID first and validate in a later transaction")
                else:
                    yield self.hit(f"validates constraint {name} on {table}: scans the table without blocking writes",
                                   table=table, action=i)
