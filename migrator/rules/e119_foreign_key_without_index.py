from migrator.phases import Phase, Severity
from migrator.rules._base import Rule


class ForeignKeyWithoutIndex(Rule):
    """Foreign key without an index on its columns.

    ## What it does
    At the end of a migration, reports each foreign key added in it whose
    referencing columns are not the leading columns of an index created in
    the same migration (or the primary key of a table created in it).

    ## Why is this bad?
    Every DELETE or key UPDATE on the referenced table scans the referencing
    table to check the constraint, and joins on the key cannot use an index.

    ## Use instead
    `CREATE INDEX CONCURRENTLY ON child (parent_id);` in the same release,
    before the foreign key is validated. (If the index exists already,
    suppress with `-- migrator: ignore E119 reason: index x exists`.)
    """

    id, name, phase, severity = "E119", "foreign-key-without-index", Phase.EXPAND, Severity.INFO
    classifies = False
    fix = "CREATE INDEX CONCURRENTLY on the referencing columns"

    def check(self, stmt, ctx):
        return ()

    def finish(self, ctx, report):
        if not ctx.foreign_keys:
            return
        prefixes = {(t, cols[:n]) for t, cols in ctx.indexed for n in range(1, len(cols) + 1)}
        for table, columns, index in ctx.foreign_keys:
            if not columns:
                continue
            if (table, columns) not in prefixes and 0 <= index < len(report.statements):
                yield index, self.hit(f"no index on {table} ({', '.join(columns)}) in this migration: deletes on "
                                      "the referenced table scan it", table=table)
