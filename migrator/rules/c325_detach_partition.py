from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule
from migrator.sql.words import alter_target, command_actions, dotted_name


class DetachPartition(Rule):
    """Detach partition.

    ## What it does
    Finds `ALTER TABLE ... DETACH PARTITION` (sqlglot cannot parse it; read
    from tokens). Its rows disappear from the parent (contract). Without
    `CONCURRENTLY` it is an error: the parent is locked ACCESS EXCLUSIVE.
    `DETACH PARTITION ... CONCURRENTLY` (PostgreSQL 14+) and `... FINALIZE`
    are warnings (SHARE UPDATE EXCLUSIVE).

    ## Why is this bad?
    Blue's queries on the parent stop seeing the partition's rows, and its
    inserts for that range fail (or land in the default partition). The
    plain form blocks all reads and writes on the whole partitioned table
    while it waits for running queries.

    ## Use instead
    Contract phase, once no code needs the rows through the parent:
    `ALTER TABLE parent DETACH PARTITION part CONCURRENTLY` outside a
    transaction; if it is interrupted, finish it with `... FINALIZE`.
    """

    id, name, phase, severity = "C325", "detach-partition", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may expect its rows in the parent"
    lock = Lock.ACCESS_EXCLUSIVE
    commands = (("ALTER", "TABLE"),)
    fix = "DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+) outside a transaction, in the contract phase"

    def check(self, stmt, ctx):
        table, _ = alter_target(stmt.words)
        for i, action in enumerate(command_actions(stmt)):
            if action[:2] != ("DETACH", "PARTITION"):
                continue
            partition, end = dotted_name(action, 2)
            mode = action[end:]
            if partition is None or mode not in ((), ("CONCURRENTLY",), ("FINALIZE",)):
                continue
            if mode:
                verb = "detaches" if mode == ("CONCURRENTLY",) else "finishes detaching"
                yield self.hit(f"{verb} {partition} from {table} concurrently: its rows disappear from "
                               f"{table} for blue", table=table, action=i, severity=Severity.WARNING,
                               lock=Lock.SHARE_UPDATE_EXCLUSIVE)
            else:
                yield self.hit(f"detaches {partition} from {table} without CONCURRENTLY: ACCESS EXCLUSIVE on "
                               f"{table} blocks all reads and writes; its rows disappear from {table} for blue",
                               table=table, action=i)
