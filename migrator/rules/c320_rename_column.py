from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, new_table


class RenameColumn(AlterTableRule):
    """Rename a column.

    ## What it does
    Finds `ALTER TABLE ... RENAME [COLUMN] a TO b` (sqlglot reads the form
    without `COLUMN` as a table rename; the tokens decide).

    ## Why is this bad?
    Every query of blue that names the old column fails the moment the rename
    commits. There is no moment when both blue and green work.

    ## Use instead
    Add the new column, keep both in sync (trigger or dual writes), backfill,
    switch reads and writes to the new name, drop the old column in the
    contract phase. Or keep the old name in the database and rename only in
    the ORM mapping.
    """

    id, name, phase, severity = "C320", "rename-column", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may use the old name"
    lock = Lock.ACCESS_EXCLUSIVE
    fix = ("add the new column, sync and backfill it, switch the application, drop the old column later; or rename "
           "only in the ORM mapping")

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            words = action.words
            if words[:2] == ("RENAME", "COLUMN") and len(words) == 5 and words[3] == "TO":
                old, new = action.text(2), action.text(4)
            elif words[:1] == ("RENAME",) and len(words) == 4 and words[2] == "TO" \
                    and words[1] not in ("TO", "COLUMN", "CONSTRAINT"):
                old, new = action.text(1), action.text(3)
            else:
                continue
            if action.node is not None and not isinstance(action.node, (exp.RenameColumn, exp.AlterRename)):
                continue
            yield self.hit(f"renames column {alter.table}.{old} to {new}: blue's queries that name {old} fail",
                           table=alter.table, action=action.index, **new_table(ctx, alter.table))
