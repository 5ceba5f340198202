from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._base import Rule
from migrator.sql.words import alter_target, command_actions, dotted_name


class AttachPartition(Rule):
    """Attach partition.

    ## What it does
    Finds `ALTER TABLE ... ATTACH PARTITION` (sqlglot cannot parse it; read
    from tokens): additive (expand), a warning. The parent is locked SHARE
    UPDATE EXCLUSIVE (reads and writes continue), but the partition is
    locked ACCESS EXCLUSIVE and scanned to prove its rows fit the bounds,
    and the parent's default partition, if any, is locked ACCESS EXCLUSIVE
    and scanned too (measured on PostgreSQL 15). The finding's lock is ACCESS
    EXCLUSIVE on the partition and its work a scan, so `migrator plan` shows
    the partition's size beside it.

    ## Why is this bad?
    The scan of a large partition holds the ACCESS EXCLUSIVE lock on it (and
    on the default partition) for its whole duration. Once attached, its rows
    are visible to blue's queries on the parent.

    ## Use instead
    Before attaching, add a `CHECK` constraint matching the partition bounds
    (`NOT VALID`, then `VALIDATE CONSTRAINT`): PostgreSQL then skips the scan.
    Drop the CHECK afterwards.
    """

    id, name, phase, severity = "E118", "attach-partition", Phase.EXPAND, Severity.WARNING
    lock = Lock.ACCESS_EXCLUSIVE  # on the partition (and the default partition); the parent gets SHARE UPDATE EXCLUSIVE
    rewrite = Rewrite.SCAN
    commands = (("ALTER", "TABLE"),)
    fix = ("add a validated CHECK constraint matching the bounds to the partition first, so ATTACH skips the scan; "
           "drop it afterwards")

    def check(self, stmt, ctx):
        table, _ = alter_target(stmt.words)
        for i, action in enumerate(command_actions(stmt)):
            if action[:2] != ("ATTACH", "PARTITION"):
                continue
            partition, end = dotted_name(action, 2)
            if partition is None or not (action[end:end + 3] == ("FOR", "VALUES", "IN")
                                         or action[end:end + 3] == ("FOR", "VALUES", "FROM")
                                         or action[end:end + 3] == ("FOR", "VALUES", "WITH")
                                         or action[end:] == ("DEFAULT",)):
                continue
            yield self.hit(f"attaches {partition} to {table}: SHARE UPDATE EXCLUSIVE on {table}, but ACCESS "
                           f"EXCLUSIVE on {partition} while it is scanned to prove its rows fit the bounds (skipped "
                           f"only if a validated CHECK on {partition} implies them), and on {table}'s default "
                           "partition, if any, while it is scanned too", table=partition, action=i)
