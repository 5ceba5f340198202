from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, new_table


class RenameTable(AlterTableRule):
    """Rename a table.

    ## What it does
    Finds `ALTER TABLE ... RENAME TO new_name`.

    ## Why is this bad?
    Every query of blue that names the old table fails the moment the rename
    commits.

    ## Use instead
    Rename the table and create a view with the old name
    (`CREATE VIEW old AS SELECT * FROM new`, updatable for simple tables) in
    the same transaction; drop the view in the contract phase once blue is
    gone.
    """

    id, name, phase, severity = "C321", "rename-table", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may use the old name"
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "rename it and create a view with the old name in the same transaction; drop the view after blue is gone"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            if action.words[:2] == ("RENAME", "TO") and len(action.words) == 3:
                yield self.hit(f"renames table {alter.table} to {action.text(2)}: blue's queries that name "
                               f"{alter.table} fail", table=alter.table, action=action.index,
                               **new_table(ctx, alter.table))
