from sqlglot import exp

from migrator.phases import Phase, Severity
from migrator.rules._base import Rule


class ConcurrentlyInTransaction(Rule):
    """Statement that cannot run inside a transaction block.

    ## What it does
    Reports `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`,
    `REINDEX ... CONCURRENTLY`, `DETACH PARTITION ... CONCURRENTLY`,
    `VACUUM`, `CREATE DATABASE`, and (before PostgreSQL 12) `ALTER TYPE ...
    ADD VALUE` inside a transaction: after `BEGIN`, or in a migration that
    runs in a transaction (`assume_in_transaction = true`, alembic's default).

    ## Why is this bad?
    PostgreSQL rejects them with "cannot run inside a transaction block":
    the migration fails halfway.

    ## Use instead
    Run them outside a transaction: in alembic,
    `with op.get_context().autocommit_block(): op.create_index(...,
    postgresql_concurrently=True)`; in plain SQL, a file of its own without
    BEGIN/COMMIT.
    """

    id, name, phase, severity = "P506", "concurrently-in-transaction", Phase.NONE, Severity.ERROR
    every, classifies = True, False
    fix = "run it outside a transaction block (alembic: op.get_context().autocommit_block())"

    def check(self, stmt, ctx):
        if not ctx.transactional:
            return
        what = _non_transactional(stmt, ctx.settings.postgres_version)
        if what:
            yield self.hit(f"{what} cannot run inside a transaction block: PostgreSQL rejects it")


def _non_transactional(stmt, pg_version: int) -> str | None:
    node, words = stmt.node, stmt.words
    if isinstance(node, (exp.Create, exp.Drop)) and node.args.get("concurrently"):
        return f"{words[0]} ... CONCURRENTLY"
    if stmt.is_command:
        if words[:1] in (("REINDEX",), ("ALTER",)) and "CONCURRENTLY" in words:
            return f"{words[0]} ... CONCURRENTLY"
        if words[:1] == ("VACUUM",):
            return "VACUUM"
        if words[:2] == ("CREATE", "DATABASE") or words[:2] == ("DROP", "DATABASE"):
            return f"{words[0]} DATABASE"
        if pg_version < 12 and words[:2] == ("ALTER", "TYPE") and "ADD" in words and "VALUE" in words:
            return "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"
    return None
