from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule


class MissingLockTimeout(Rule):
    """DDL without lock_timeout.

    ## What it does
    Reports the first statement of a migration that takes a lock stronger
    than ROW EXCLUSIVE on an existing table when no `SET lock_timeout` came
    before it in the same migration. Reported once per migration.

    ## Why is this bad?
    Even a brief ACCESS EXCLUSIVE lock waits in the lock queue behind a long
    running query, and every query that arrives after it waits behind the
    DDL: a millisecond change turns into an outage for as long as the
    slowest transaction runs.

    ## Use instead
    Start the migration with `SET lock_timeout = '500ms';` (and a
    `statement_timeout`), and retry on SQLSTATE 55P03 with backoff.
    `migrator expand|migrate|contract` sets both for every DDL session.
    """

    id, name, phase, severity = "P501", "missing-lock-timeout", Phase.NONE, Severity.WARNING
    every, classifies = True, False
    fix = "SET lock_timeout = '500ms'; at the start of the migration, and retry on lock timeout"

    def check(self, stmt, ctx):
        if ctx.lock_timeout_set or ctx.lock_timeout_reported:
            return
        for hit in ctx.current_hits:
            if hit.lock is not None and hit.lock > Lock.ROW_EXCLUSIVE and not ctx.is_new_table(hit.table):
                ctx.lock_timeout_reported = True
                yield self.hit(f"takes {hit.lock.label} on {hit.table or 'a table'} without lock_timeout: "
                               "while it waits for the lock, every query on the table queues behind it",
                               table=hit.table, lock=None)
                return
