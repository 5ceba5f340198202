from sqlglot import exp

from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._base import Rule
from migrator.rules._objects import index_info


class CreateIndex(Rule):
    """Create index.

    ## What it does
    Finds `CREATE INDEX` (not `UNIQUE`; see C314). Without `CONCURRENTLY` on
    a table that existed before the migration it is an error: the build holds
    a SHARE lock, which blocks every INSERT, UPDATE and DELETE on the table
    until the index is complete. `CREATE INDEX CONCURRENTLY` is reported as
    info (SHARE UPDATE EXCLUSIVE: reads and writes continue). An index on a
    table created earlier in the same migration is only classified (expand).

    ## Why is this bad?
    An index is additive, so it belongs to the expand phase, but building it
    on a large table takes minutes to hours. With a plain `CREATE INDEX` blue
    cannot write to the table for that long.

    ## Use instead
    `CREATE INDEX CONCURRENTLY` in its own, non-transactional migration (it
    cannot run inside a transaction block). If it fails it leaves an
    `INVALID` index behind: drop it and retry.
    """

    id, name, phase, severity = "E111", "create-index", Phase.EXPAND, Severity.ERROR
    lock = Lock.SHARE
    rewrite = Rewrite.INDEX
    nodes = (exp.Create,)
    commands = (("CREATE", "INDEX"),)
    fix = "CREATE INDEX CONCURRENTLY ... in a migration that runs outside a transaction"

    def check(self, stmt, ctx):
        info = index_info(stmt)
        if info is None or info.unique:
            return
        label = f"index {info.name} on {info.table}" if info.name else f"an index on {info.table}"
        if ctx.is_new_table(info.table):
            yield self.hit(f"builds {label}, a table created in this migration", table=info.table, severity=None,
                           lock=Lock.SHARE_UPDATE_EXCLUSIVE if info.concurrently else Lock.SHARE)
        elif info.concurrently:
            yield self.hit(f"builds {label} concurrently: reads and writes continue; if it fails it leaves an "
                           "INVALID index to drop", table=info.table, severity=Severity.INFO,
                           lock=Lock.SHARE_UPDATE_EXCLUSIVE,
                           fix="check pg_index.indisvalid afterwards; drop and recreate an INVALID index")
        else:
            yield self.hit(f"builds {label} without CONCURRENTLY: the SHARE lock blocks all writes to "
                           f"{info.table} for the whole build", table=info.table)
