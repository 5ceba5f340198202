from sqlglot import exp

from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._base import Rule
from migrator.rules._objects import index_info


class CreateUniqueIndex(Rule):
    """Create unique index on an existing table.

    ## What it does
    Finds `CREATE UNIQUE INDEX [CONCURRENTLY]` on a table that existed before
    the migration. It is a restriction (contract): existing duplicates make
    the build fail, and once it exists blue's writes of duplicate values fail.
    Without `CONCURRENTLY` it is an error, because the SHARE lock also blocks
    all writes during the build. On a table created earlier in the same
    migration it is only classified (expand).

    ## Why is this bad?
    Blue was written without the uniqueness rule and may still insert
    duplicates. A concurrent build that fails on a duplicate leaves an
    `INVALID` index that still slows every write until it is dropped.

    ## Use instead
    Make green enforce uniqueness first, deduplicate the data (migrate), then
    `CREATE UNIQUE INDEX CONCURRENTLY` outside a transaction, check
    `pg_index.indisvalid`, and if it must be a constraint,
    `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX ...`.
    """

    id, name, phase, severity = "C314", "create-unique-index", Phase.CONTRACT, Severity.WARNING
    contract_precondition = "no running code may write duplicate values"
    lock = Lock.SHARE_UPDATE_EXCLUSIVE
    rewrite = Rewrite.INDEX
    nodes = (exp.Create,)
    commands = (("CREATE", "UNIQUE", "INDEX"),)
    fix = ("deduplicate first, then CREATE UNIQUE INDEX CONCURRENTLY outside a transaction and check "
           "pg_index.indisvalid; drop an INVALID index before retrying")

    def check(self, stmt, ctx):
        info = index_info(stmt)
        if info is None or not info.unique:
            return
        label = f"unique index {info.name} on {info.table}" if info.name else f"a unique index on {info.table}"
        if ctx.is_new_table(info.table):
            yield self.hit(f"builds {label}, a table created in this migration", table=info.table,
                           phase=Phase.EXPAND, severity=None,
                           lock=Lock.SHARE_UPDATE_EXCLUSIVE if info.concurrently else Lock.SHARE)
        elif info.concurrently:
            yield self.hit(f"builds {label} concurrently: fails on existing duplicates (leaving an INVALID "
                           "index), and blue's writes of duplicate values fail afterwards", table=info.table)
        else:
            yield self.hit(f"builds {label} without CONCURRENTLY: the SHARE lock blocks all writes to "
                           f"{info.table} for the whole build; fails on existing duplicates, and blue's writes "
                           "of duplicate values fail afterwards", table=info.table, severity=Severity.ERROR,
                           lock=Lock.SHARE)
