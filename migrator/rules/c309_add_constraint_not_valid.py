from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, add_constraint, new_table


class AddConstraintNotValid(AlterTableRule):
    """Add a CHECK or foreign key NOT VALID.

    ## What it does
    Finds `ALTER TABLE ... ADD CONSTRAINT ... CHECK (...) NOT VALID` and
    `... FOREIGN KEY ... NOT VALID`: the safe first step. Only the catalog
    changes, under a brief ACCESS EXCLUSIVE (CHECK) or SHARE ROW EXCLUSIVE
    (foreign key) lock; existing rows are not checked.

    ## Why is this bad?
    The lock is brief, but the constraint applies to every new write at once:
    if blue still writes rows that violate it, those writes fail. So it
    belongs to the contract phase unless blue provably complies.

    ## Use instead
    Add it once blue complies, backfill or fix old rows, then
    `VALIDATE CONSTRAINT` in a later transaction (M201).
    """

    id, name, phase, severity = "C309", "add-constraint-not-valid", Phase.CONTRACT, Severity.INFO
    contract_precondition = "no running code may write rows that violate the constraint"
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "VALIDATE CONSTRAINT in a later transaction, after old rows comply"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_constraint(action)
            if spec is None or not spec.not_valid or spec.kind not in ("CHECK", "FOREIGN KEY"):
                continue
            lock = Lock.SHARE_ROW_EXCLUSIVE if spec.kind == "FOREIGN KEY" else Lock.ACCESS_EXCLUSIVE
            yield self.hit(f"adds {spec.label} to {alter.table} NOT VALID: brief lock, existing rows unchecked; "
                           "blue's writes must already comply", table=alter.table, action=action.index, lock=lock,
                           **new_table(ctx, alter.table))
