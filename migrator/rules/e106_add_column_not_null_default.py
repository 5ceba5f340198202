from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_column, new_table


class AddColumnNotNullDefault(AlterTableRule):
    """Add a NOT NULL column with a non-volatile default.

    ## What it does
    Finds `ALTER TABLE ... ADD COLUMN ... NOT NULL DEFAULT <expr>` where the
    default calls no volatile function. On PostgreSQL 11+ the default is kept
    in the catalog: existing rows are not rewritten and, because they all read
    the (non-null) default, no NOT NULL scan is needed either. With
    `postgres_version < 11` the table is rewritten and the rule reports an
    error.

    ## Why is this bad?
    On PostgreSQL 11+ it is an expand change: blue's INSERTs omit the column
    and get the default. Keep the default for as long as blue runs: dropping it
    later (C306) makes blue's INSERTs fail.

    ## Use instead
    PostgreSQL 11+: keep it, with `SET lock_timeout`. Older servers: add the
    column nullable, `SET DEFAULT`, backfill in batches, then add NOT NULL via
    a validated CHECK constraint.
    """

    id, name, phase, severity = "E106", "add-column-not-null-default", Phase.EXPAND, Severity.INFO
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "keep the default as long as blue inserts rows; run it with SET lock_timeout"

    def check_alter(self, alter, ctx):
        version = ctx.settings.postgres_version
        for action in alter.actions:
            spec = add_column(action)
            if spec is None or not spec.understood or spec.default is None or spec.volatile or not spec.not_null:
                continue
            if spec.serial or spec.identity or spec.generated:
                continue
            if version < 11:
                yield self.hit(f"adds NOT NULL column {spec.name} with a default to {alter.table}: PostgreSQL "
                               f"{version} rewrites the whole table under ACCESS EXCLUSIVE (fast defaults need 11+)",
                               table=alter.table, action=action.index,
                               **new_table(ctx, alter.table, severity=Severity.ERROR, rewrite=Rewrite.REWRITE),
                               fix="add the column nullable, SET DEFAULT, backfill in batches, then SET NOT NULL "
                                   "via a validated CHECK (col IS NOT NULL)")
            else:
                yield self.hit(f"adds NOT NULL column {spec.name} with a non-volatile default to {alter.table}: "
                               "kept in the catalog, no rewrite; blue's INSERTs get the default",
                               table=alter.table, action=action.index)
