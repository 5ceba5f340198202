from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, alter_column, column_form, column_key, new_table


class AlterColumnTypeWithCheck(AlterTableRule):
    """Type change on a column that a CHECK constraint reads.

    ## What it does
    Finds `ALTER COLUMN c TYPE t` where an earlier statement of the same
    migration added a CHECK constraint reading `c` (CREATE TABLE or ADD
    CONSTRAINT). Binary-coercible changes (E108) included.

    ## Why is this bad?
    PostgreSQL drops and re-adds every constraint that depends on the column,
    and re-adding a CHECK validates it against all rows: a full scan under
    ACCESS EXCLUSIVE, even when the type change itself needs no rewrite.

    ## Use instead
    Drop the CHECK, change the type, re-add the CHECK `NOT VALID`, and
    `VALIDATE CONSTRAINT` in a later transaction.
    """

    id, name, phase, severity = "C304", "alter-column-type-with-check", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may read or write the old type"
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.SCAN
    fix = "drop the CHECK, change the type, re-add the CHECK NOT VALID, VALIDATE CONSTRAINT in a later transaction"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            node = alter_column(action)
            if node is None or column_form(node) != "TYPE":
                continue
            if column_key(alter, node) in ctx.checked_columns:
                yield self.hit(f"changes the type of {alter.table}.{node.name}, which a CHECK constraint reads: the "
                               "CHECK is re-validated with a full scan under ACCESS EXCLUSIVE", table=alter.table,
                               action=action.index, **new_table(ctx, alter.table))
