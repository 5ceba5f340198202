from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_constraint, new_table


class AddCheckConstraint(AlterTableRule):
    """Add a CHECK constraint without NOT VALID.

    ## What it does
    Finds `ALTER TABLE ... ADD [CONSTRAINT name] CHECK (...)` without
    `NOT VALID`.

    ## Why is this bad?
    PostgreSQL checks every existing row while holding ACCESS EXCLUSIVE: no
    reads or writes until the scan ends. The new restriction also rejects
    writes blue may still make.

    ## Use instead
    `ADD CONSTRAINT ... CHECK (...) NOT VALID` (brief lock, new rows checked),
    commit, then `VALIDATE CONSTRAINT` in a later transaction (SHARE UPDATE
    EXCLUSIVE: reads and writes go on).
    """

    id, name, phase, severity = "C307", "add-check-constraint", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may write rows that violate the check"
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.SCAN
    fix = "ADD CONSTRAINT ... CHECK (...) NOT VALID, commit, then VALIDATE CONSTRAINT in a later transaction"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_constraint(action)
            if spec is not None and spec.kind == "CHECK" and not spec.not_valid:
                yield self.hit(f"adds {spec.label} to {alter.table} without NOT VALID: scans every row under ACCESS "
                               "EXCLUSIVE", table=alter.table, action=action.index, **new_table(ctx, alter.table))
