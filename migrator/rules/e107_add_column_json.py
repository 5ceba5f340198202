from sqlglot import exp

from migrator.phases import Phase, Severity
from migrator.rules._alter import AlterTableRule, add_column, alter_table, is_json, never_raise
from migrator.rules._base import table_name


class AddColumnJson(AlterTableRule):
    """Column of type json instead of jsonb.

    ## What it does
    Finds columns declared `json` (also `json[]`) in `ALTER TABLE ... ADD
    COLUMN` and in `CREATE TABLE`. It is advice on top of the rule that
    classifies the statement, and does not classify anything itself.

    ## Why is this bad?
    `json` stores the text as given: it has no equality operator (so `SELECT
    DISTINCT`, `GROUP BY`, `UNION` and unique indexes fail on it), no GIN
    indexing, and every access re-parses the document. Changing the type later
    rewrites the table (C303).

    ## Use instead
    Declare the column `jsonb`.
    """

    id, name, phase, severity = "E107", "add-column-json", Phase.EXPAND, Severity.WARNING
    nodes = (exp.Alter, exp.Create)
    classifies = False
    fix = "declare the column jsonb"

    def check(self, stmt, ctx):
        return never_raise(self, self._check(stmt, ctx))

    def _check(self, stmt, ctx):
        node = stmt.node
        if isinstance(node, exp.Create):
            if (node.args.get("kind") or "").upper() != "TABLE" or not isinstance(node.this, exp.Schema):
                return
            table = table_name(node.this)
            for col in node.this.expressions:
                if isinstance(col, exp.ColumnDef) and is_json(col.args.get("kind")):
                    yield self.hit(f"column {col.name} of {table} is json: no equality operator, no GIN index, "
                                   "re-parsed on every access; use jsonb", table=table)
            return
        alter = alter_table(stmt)
        if alter is None:
            return
        for action in alter.actions:
            spec = add_column(action)
            if spec is not None and is_json(spec.dtype):
                yield self.hit(f"adds json column {spec.name} to {alter.table}: no equality operator, no GIN index, "
                               "re-parsed on every access; use jsonb", table=alter.table, action=action.index)
