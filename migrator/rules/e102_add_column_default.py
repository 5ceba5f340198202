from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_column, new_table


class AddColumnDefault(AlterTableRule):
    """Add a nullable column with a constant or non-volatile default.

    ## What it does
    Finds `ALTER TABLE ... ADD COLUMN ... DEFAULT <expr>` on a nullable column
    where the default calls no volatile function (a constant, a cast of a
    constant, `now()`, `CURRENT_TIMESTAMP`, `'{}'::jsonb`, ...). Since
    PostgreSQL 11 the default is evaluated once and kept in the catalog
    (`attmissingval`); no row is rewritten. Before 11 (setting
    `postgres_version < 11`) the whole table is rewritten under ACCESS
    EXCLUSIVE, and the rule reports an error.

    ## Why is this bad?
    On PostgreSQL 11+ it is a safe expand change: blue does not write the
    column and new rows get the default. On PostgreSQL 10 and older the rewrite
    blocks reads and writes for as long as copying the table takes.

    ## Use instead
    PostgreSQL 11+: keep it (with `SET lock_timeout`). Older servers: add the
    column without a default, `ALTER COLUMN ... SET DEFAULT` in a second
    statement (new rows only), then backfill existing rows in batches.
    """

    id, name, phase, severity = "E102", "add-column-default", Phase.EXPAND, Severity.INFO
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "run it with SET lock_timeout and retry on timeout"

    def check_alter(self, alter, ctx):
        version = ctx.settings.postgres_version
        for action in alter.actions:
            spec = add_column(action)
            if spec is None or not spec.understood or spec.default is None or spec.volatile:
                continue
            if spec.not_null or spec.serial or spec.identity or spec.generated:
                continue
            if version < 11:
                yield self.hit(f"adds column {spec.name} to {alter.table} with a default: PostgreSQL {version} "
                               "rewrites the whole table under ACCESS EXCLUSIVE (fast defaults need 11+)",
                               table=alter.table, action=action.index,
                               **new_table(ctx, alter.table, severity=Severity.ERROR, rewrite=Rewrite.REWRITE),
                               fix="add the column without a default, then ALTER COLUMN ... SET DEFAULT, then "
                                   "backfill existing rows in batches")
            else:
                yield self.hit(f"adds column {spec.name} to {alter.table} with a non-volatile default: kept in the "
                               "catalog, no rewrite (brief ACCESS EXCLUSIVE lock)",
                               table=alter.table, action=action.index)
