from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_column, new_table


class AddColumnGeneratedStored(AlterTableRule):
    """Add a stored generated column.

    ## What it does
    Finds `ALTER TABLE ... ADD COLUMN ... GENERATED ALWAYS AS (expr) STORED`.

    ## Why is this bad?
    PostgreSQL computes the expression for every existing row and rewrites the
    whole table under ACCESS EXCLUSIVE: reads and writes stop until it is done.

    ## Use instead
    Add a plain nullable column, keep it up to date with a trigger (or the
    application), backfill existing rows in batches, and switch readers to it.
    """

    id, name, phase, severity = "E105", "add-column-generated-stored", Phase.EXPAND, Severity.ERROR
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.REWRITE
    fix = "add a plain nullable column, fill new rows with a trigger, backfill existing rows in batches"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_column(action)
            if spec is None or not spec.understood or not spec.generated:
                continue
            yield self.hit(f"adds stored generated column {spec.name} to {alter.table}: PostgreSQL computes it for "
                           "every row and rewrites the table under ACCESS EXCLUSIVE",
                           table=alter.table, action=action.index, **new_table(ctx, alter.table))
