from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, alter_column, column_form


class DropNotNull(AlterTableRule):
    """Drop NOT NULL from a column.

    ## What it does
    Finds `ALTER TABLE ... ALTER COLUMN c DROP NOT NULL`. It changes only the
    catalog, under a brief ACCESS EXCLUSIVE lock.

    ## Why is this bad?
    It relaxes a constraint, so blue's writes keep working: an expand change.
    But once green writes NULLs, blue's readers see values they never
    expected (and an ORM model may declare the field non-optional).

    ## Use instead
    Check that every reader of the column, in blue and green, handles NULL
    before green starts writing NULLs.
    """

    id, name, phase, severity = "E109", "drop-not-null", Phase.EXPAND, Severity.WARNING
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "make sure blue's readers of the column handle NULL before green writes NULLs"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            node = alter_column(action)
            if node is not None and column_form(node) == "DROP NOT NULL":
                yield self.hit(f"drops NOT NULL from {alter.table}.{node.name}: blue's readers may not expect NULL",
                               table=alter.table, action=action.index)
