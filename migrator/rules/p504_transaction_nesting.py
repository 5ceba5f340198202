from migrator.phases import Phase, Severity
from migrator.rules._base import Rule

BEGIN_WORDS = (("BEGIN",), ("START", "TRANSACTION"))


class TransactionNesting(Rule):
    """BEGIN inside a transaction, or BEGIN without COMMIT.

    ## What it does
    Reports a `BEGIN` / `START TRANSACTION` while a transaction is already
    open, and a migration that ends with a transaction still open.

    ## Why is this bad?
    PostgreSQL ignores a nested BEGIN with a warning, so the inner COMMIT
    commits the outer transaction early. A missing COMMIT leaves the changes
    unapplied (or applied by whatever closes the session).

    ## Use instead
    One `BEGIN` ... `COMMIT` per transaction; let the migration tool
    (alembic, migrator) manage transactions.
    """

    id, name, phase, severity = "P504", "transaction-nesting", Phase.NONE, Severity.ERROR
    every, classifies = True, False
    fix = "balance BEGIN and COMMIT; do not nest transactions"

    def check(self, stmt, ctx):
        if ctx.transaction_depth > 0 and any(stmt.words[: len(w)] == w for w in BEGIN_WORDS):
            yield self.hit("BEGIN inside an open transaction: PostgreSQL ignores it and the next COMMIT ends the "
                           "outer transaction")

    def finish(self, ctx, report):
        if ctx.transaction_depth > 0:
            yield None, self.hit("the migration ends inside an open transaction: BEGIN without COMMIT")
