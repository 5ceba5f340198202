from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule
from migrator.rules._objects import read_drop


class DropIndex(Rule):
    """Drop index.

    ## What it does
    Finds `DROP INDEX`. Without `CONCURRENTLY` it is an error: it takes an
    ACCESS EXCLUSIVE lock on the index's table, which blocks all reads and
    writes while it waits for running queries. `DROP INDEX CONCURRENTLY` is a
    warning (SHARE UPDATE EXCLUSIVE: reads and writes continue).

    ## Why is this bad?
    Blue's queries may depend on the index for their plans: without it they
    fall back to sequential scans. A dropped unique index also lets
    duplicates in, and `ON CONFLICT` clauses that name its columns fail.

    ## Use instead
    Contract phase, once no query of green or blue needs it:
    `DROP INDEX CONCURRENTLY IF EXISTS name` in a migration that runs outside
    a transaction (one index per statement).
    """

    id, name, phase, severity = "C315", "drop-index", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running query may depend on the index"
    lock = Lock.ACCESS_EXCLUSIVE
    nodes = (exp.Drop,)
    commands = (("DROP", "INDEX"),)
    fix = "DROP INDEX CONCURRENTLY (one index per statement, outside a transaction) in the contract phase"

    def check(self, stmt, ctx):
        found = read_drop(stmt, "INDEX")
        if found is None:
            return
        names, cascade, concurrently = found
        label = ", ".join(names)
        extra = "; CASCADE also drops constraints that depend on it" if cascade else ""
        if concurrently:
            yield self.hit(f"drops index {label} concurrently: queries that used it may slow down{extra}",
                           severity=Severity.WARNING, lock=Lock.SHARE_UPDATE_EXCLUSIVE)
        else:
            yield self.hit(f"drops index {label} without CONCURRENTLY: ACCESS EXCLUSIVE on its table blocks all "
                           f"reads and writes{extra}")
