from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_column, new_table


class AddColumnNotNull(AlterTableRule):
    """Add a NOT NULL column without a default.

    ## What it does
    Finds `ALTER TABLE ... ADD COLUMN ... NOT NULL` (or `PRIMARY KEY`, which
    implies NOT NULL) with no default, or `DEFAULT NULL`. On a table created
    earlier in the same migration it is an expand change and reports nothing.

    ## Why is this bad?
    On a table with rows the statement fails outright: every existing row
    would be NULL. On an empty table it succeeds, and then every INSERT from
    blue, which does not know the column, fails with a NOT NULL violation.

    ## Use instead
    Add the column nullable (expand), write it from green and backfill old
    rows (migrate), then add NOT NULL once blue is gone (contract, see C305),
    or give the column a non-volatile default (E106).
    """

    id, name, phase, severity = "C301", "add-column-not-null", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may insert rows without the column"
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.SCAN
    fix = ("add the column nullable, backfill it, then add NOT NULL in the contract phase (CHECK ... NOT VALID, "
           "VALIDATE, SET NOT NULL), or add it with a constant DEFAULT")

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_column(action)
            if spec is None or not spec.understood or not spec.not_null or spec.default is not None:
                continue
            if spec.serial or spec.identity or spec.generated:
                continue
            why = "NOT NULL" if spec.explicit_not_null else "PRIMARY KEY (implies NOT NULL)"
            yield self.hit(f"adds {why} column {spec.name} to {alter.table} without a default: fails on existing "
                           "rows, and blue's INSERTs, which omit the column, fail", table=alter.table,
                           action=action.index, **new_table(ctx, alter.table))
