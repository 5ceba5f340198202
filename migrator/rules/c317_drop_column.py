from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule, table_name


class DropColumn(Rule):
    """Drop column.

    ## What it does
    Finds `ALTER TABLE ... DROP COLUMN`.

    ## Why is this bad?
    Blue still selects, inserts and updates the column: ORM column lists and
    `SELECT *` mapped to models break the moment it is gone. The lock is brief
    (catalog only) but the change is destructive and cannot be rolled back
    without losing the data.

    ## Use instead
    Contract phase: stop using the column in green (ORM: mark it deferred or
    ignored), switch traffic, wait until blue is gone, then drop it.
    """

    id, name, phase, severity = "C317", "drop-column", Phase.CONTRACT, Severity.WARNING
    contract_precondition = "no running code may read or write the column"
    lock = Lock.ACCESS_EXCLUSIVE
    nodes = (exp.Alter,)
    fix = "drop it in the contract phase, after blue is gone and green no longer reads or writes it"

    def check(self, stmt, ctx):
        table = table_name(stmt.node.this)
        for i, action in enumerate(stmt.node.args.get("actions") or []):
            if isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
                columns = ", ".join(c.name for c in action.args.get("tables") or [])
                yield self.hit(f"drops column {columns} of {table}; blue still reads and writes it",
                               table=table, action=i)
