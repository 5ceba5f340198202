from sqlglot import exp

from migrator.phases import Phase, Severity
from migrator.rules._base import Rule, table_key, table_name


class RepeatedAlterTable(Rule):
    """Several ALTER TABLE statements on one table.

    ## What it does
    Reports a second (third, ...) `ALTER TABLE` on the same existing table in
    one migration.

    ## Why is this bad?
    Each ALTER TABLE queues for its own ACCESS EXCLUSIVE lock (and may scan
    or rewrite the table again). Every extra statement is another chance to
    block traffic behind a long query.

    ## Use instead
    Combine the changes into one statement with comma-separated actions:
    `ALTER TABLE t ADD COLUMN a int, ADD COLUMN b text;`.
    """

    id, name, phase, severity = "P503", "repeated-alter-table", Phase.NONE, Severity.INFO
    classifies = False
    nodes = (exp.Alter,)
    fix = "combine the actions into one ALTER TABLE statement"

    def check(self, stmt, ctx):
        if (stmt.node.args.get("kind") or "").upper() != "TABLE":
            return
        name = table_name(stmt.node.this)
        if not name or ctx.is_new_table(name):
            return
        earlier = ctx.altered_tables.get(table_key(name), 0)
        if earlier:
            yield self.hit(f"ALTER TABLE {name} again ({earlier + 1} in this migration): each one queues for its "
                           "own lock", table=name, lock=None)
