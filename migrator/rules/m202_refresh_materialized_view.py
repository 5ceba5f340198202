from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._base import Rule
from migrator.sql.words import dotted_name


class RefreshMaterializedView(Rule):
    """Refresh materialized view.

    ## What it does
    Finds `REFRESH MATERIALIZED VIEW` (sqlglot cannot parse it; read from
    tokens): a data change (migrate). Without `CONCURRENTLY` it is a warning:
    the view is rebuilt under an ACCESS EXCLUSIVE lock. With `CONCURRENTLY`
    it is info (EXCLUSIVE lock: reads continue). `WITH NO DATA` empties the
    view, which then cannot be queried (contract, warning).

    ## Why is this bad?
    While the query runs, blue's reads of the view wait; on a big view that is
    the whole refresh time.

    ## Use instead
    `REFRESH MATERIALIZED VIEW CONCURRENTLY` (needs a unique index on plain
    columns of the view, and a view that is already populated), scheduled
    outside the deploy if it is slow.
    """

    id, name, phase, severity = "M202", "refresh-materialized-view", Phase.MIGRATE, Severity.WARNING
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.REWRITE
    commands = (("REFRESH",),)
    fix = "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view)"

    def check(self, stmt, ctx):
        words = stmt.words
        if words[1:3] != ("MATERIALIZED", "VIEW"):
            return
        i = 3
        concurrently = words[i : i + 1] == ("CONCURRENTLY",)
        i += concurrently
        name, end = dotted_name(words, i)
        rest = words[end:]
        if name is None or rest not in ((), ("WITH", "DATA"), ("WITH", "NO", "DATA")):
            return
        if rest == ("WITH", "NO", "DATA"):
            yield self.hit(f"empties materialized view {name}: blue's queries on it fail until it is refreshed",
                           table=name, phase=Phase.CONTRACT, rewrite=Rewrite.NONE,
                           fix="refresh it with data (CONCURRENTLY) instead, or drop it in the contract phase")
        elif concurrently:
            yield self.hit(f"refreshes materialized view {name} concurrently: reads continue (EXCLUSIVE lock)",
                           table=name, severity=Severity.INFO, lock=Lock.EXCLUSIVE, rewrite=Rewrite.SCAN)
        else:
            yield self.hit(f"refreshes materialized view {name} without CONCURRENTLY: ACCESS EXCLUSIVE blocks "
                           "reads of it until the query finishes", table=name)
