from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._base import Rule
from migrator.rules._objects import skip_parens
from migrator.sql.words import dotted_name

_KINDS = ("INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM")


class Reindex(Rule):
    """Reindex.

    ## What it does
    Finds `REINDEX` (sqlglot cannot parse it; read from tokens). It changes
    neither schema nor data (phase `none`). Without `CONCURRENTLY` it is an
    error: the table is locked SHARE (writes blocked) and each index being
    rebuilt ACCESS EXCLUSIVE (reads that would use it block too).
    `REINDEX ... CONCURRENTLY` is reported as info.

    ## Why is this bad?
    Rebuilding an index takes as long as building it; blue cannot write to
    the table meanwhile, and its queries planned on the index wait.

    ## Use instead
    `REINDEX INDEX CONCURRENTLY name` / `REINDEX TABLE CONCURRENTLY name`
    (PostgreSQL 12+) outside a transaction, or build a replacement with
    `CREATE INDEX CONCURRENTLY` and drop the old one concurrently.
    """

    id, name, phase, severity = "N401", "reindex", Phase.NONE, Severity.ERROR
    lock = Lock.SHARE
    rewrite = Rewrite.INDEX
    commands = (("REINDEX",),)
    fix = "REINDEX ... CONCURRENTLY (PostgreSQL 12+) outside a transaction"

    def check(self, stmt, ctx):
        words = stmt.words
        i = skip_parens(words, 1)
        if i >= len(words) or words[i] not in _KINDS:
            return
        kind = words[i]
        i += 1
        concurrently = words[i : i + 1] == ("CONCURRENTLY",)
        i += concurrently
        name, end = dotted_name(words, i)
        if end != len(words) or (name is None and kind not in ("DATABASE", "SYSTEM")):
            return
        what = f"{kind.lower()} {name}" if name else f"the current {kind.lower()}"
        table = name if kind == "TABLE" else None
        if concurrently:
            yield self.hit(f"rebuilds {what} concurrently: reads and writes continue", table=table,
                           severity=Severity.INFO, lock=Lock.SHARE_UPDATE_EXCLUSIVE)
        elif kind == "INDEX":
            yield self.hit(f"rebuilds index {name} without CONCURRENTLY: its table's writes are blocked (SHARE) "
                           "and the index itself is locked ACCESS EXCLUSIVE", lock=Lock.ACCESS_EXCLUSIVE)
        else:
            yield self.hit(f"rebuilds every index of {what} without CONCURRENTLY: writes are blocked (SHARE) "
                           "and each index is locked ACCESS EXCLUSIVE while it is rebuilt", table=table)
