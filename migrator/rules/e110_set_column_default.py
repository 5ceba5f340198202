from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, alter_column, column_form


class SetColumnDefault(AlterTableRule):
    """Set a column default.

    ## What it does
    Finds `ALTER TABLE ... ALTER COLUMN c SET DEFAULT <expr>` (not
    `DEFAULT NULL`, which is C306). Only the catalog changes: existing rows
    keep their values, so even a volatile default (`gen_random_uuid()`) causes
    no rewrite.

    ## Why is this bad?
    It is an expand change: blue's INSERTs that omit the column get the new
    default. Worth knowing when blue relies on the old default.

    ## Use instead
    Nothing to change; run it with `SET lock_timeout`.
    """

    id, name, phase, severity = "E110", "set-column-default", Phase.EXPAND, Severity.INFO
    lock = Lock.ACCESS_EXCLUSIVE

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            node = alter_column(action)
            if node is not None and column_form(node) == "SET DEFAULT":
                yield self.hit(f"sets the default of {alter.table}.{node.name}: new rows only, no rewrite",
                               table=alter.table, action=action.index)
