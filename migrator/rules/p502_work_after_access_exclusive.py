from migrator.phases import Phase, Rewrite, Severity
from migrator.rules._base import Rule


class WorkAfterAccessExclusive(Rule):
    """Slow statement while an ACCESS EXCLUSIVE lock is held.

    ## What it does
    Inside one transaction, after a statement took ACCESS EXCLUSIVE on an
    existing table, reports each later statement that scans, rewrites,
    builds an index or changes data: the first lock is held until COMMIT,
    so the outage lasts as long as all of them together.

    ## Why is this bad?
    ACCESS EXCLUSIVE blocks every read and write of the table. A brief
    `ADD COLUMN` followed by a backfill or an index build in the same
    transaction blocks the table for the whole backfill or build.

    ## Use instead
    Commit right after the statement that takes ACCESS EXCLUSIVE; run
    backfills, validations and index builds in their own transactions (or
    revisions), and combine several changes to one table into one ALTER.
    """

    id, name, phase, severity = "P502", "work-after-access-exclusive", Phase.NONE, Severity.WARNING
    every, classifies = True, False
    fix = "commit after the ACCESS EXCLUSIVE statement and run this one in its own transaction"

    def check(self, stmt, ctx):
        if not ctx.exclusive_in_transaction or not ctx.transactional:
            return
        held = sorted(t for t in ctx.exclusive_in_transaction if t not in ctx.created_tables)
        if not held:
            return
        slow = [h for h in ctx.current_hits if h.rule.classifies and (h.rewrite >= Rewrite.SCAN or h.phase == Phase.MIGRATE)]
        if not slow:
            return
        locked = ", ".join(held)
        yield self.hit(f"runs while ACCESS EXCLUSIVE on {locked}, taken earlier in this transaction, is held until COMMIT: "
                       "the table stays blocked for this statement too", table=slow[0].table, lock=None)
