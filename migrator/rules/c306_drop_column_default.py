from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, alter_column, column_form, new_table


class DropColumnDefault(AlterTableRule):
    """Drop a column default.

    ## What it does
    Finds `ALTER TABLE ... ALTER COLUMN c DROP DEFAULT` and `SET DEFAULT
    NULL`. Catalog-only, brief ACCESS EXCLUSIVE lock.

    ## Why is this bad?
    Blue's INSERTs that omit the column relied on the default. On a NOT NULL
    column they now fail; on a nullable one they silently store NULL.

    ## Use instead
    Drop the default in the contract phase, after blue is gone and green
    always writes the column.
    """

    id, name, phase, severity = "C306", "drop-column-default", Phase.CONTRACT, Severity.WARNING
    contract_precondition = "no running code may insert rows without the column"
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "drop the default only after blue is gone and green always writes the column"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            node = alter_column(action)
            if node is not None and column_form(node) == "DROP DEFAULT":
                yield self.hit(f"drops the default of {alter.table}.{node.name}: blue's INSERTs that omit the column "
                               "get NULL, or fail on a NOT NULL column", table=alter.table, action=action.index,
                               **new_table(ctx, alter.table))
