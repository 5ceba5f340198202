from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule
from migrator.rules._objects import read_drop


class DropTable(Rule):
    """Drop table.

    ## What it does
    Finds `DROP TABLE`. It is destructive (contract, warning); with
    `CASCADE`, which also drops views and foreign keys of other tables that
    depend on it, it is an error. A table created earlier in the same
    migration (a scratch table) is only classified.

    ## Why is this bad?
    Blue still reads and writes the table; its queries fail the moment the
    table is gone, and the data cannot be recovered without a restore.
    `DROP TABLE` also takes an ACCESS EXCLUSIVE lock, queued behind every
    running query on the table.

    ## Use instead
    Remove every use of the table from green, deploy, switch traffic, wait
    until blue is gone, then drop it in the contract phase, without
    `CASCADE` (drop dependent objects explicitly).
    """

    id, name, phase, severity = "C316", "drop-table", Phase.CONTRACT, Severity.WARNING
    contract_precondition = "no running code may read or write the table; its data is gone"
    lock = Lock.ACCESS_EXCLUSIVE
    nodes = (exp.Drop,)
    commands = (("DROP", "TABLE"),)
    fix = "drop it in the contract phase, after blue is gone and green no longer uses it; no CASCADE"

    def check(self, stmt, ctx):
        found = read_drop(stmt, "TABLE")
        if found is None:
            return
        names, cascade, _ = found
        label = ", ".join(names)
        if not cascade and all(ctx.is_new_table(n) for n in names):
            yield self.hit(f"drops {label}, created in this migration", table=names[0], phase=Phase.NONE,
                           severity=None)
        elif cascade:
            yield self.hit(f"drops table {label} with CASCADE: also drops the views and foreign keys that depend "
                           "on it; blue still uses it", table=names[0], severity=Severity.ERROR)
        else:
            yield self.hit(f"drops table {label}: blue still reads and writes it; the data is gone",
                           table=names[0])
