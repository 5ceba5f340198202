from sqlglot import exp

from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import alter_table, never_raise
from migrator.rules._base import Rule
from migrator.rules._objects import vacuum_full


class TableRewriteMaintenance(Rule):
    """Maintenance command that rewrites a table.

    ## What it does
    Finds `VACUUM FULL` (also `VACUUM (FULL)`), `CLUSTER`, and `ALTER TABLE
    ... SET LOGGED | SET UNLOGGED | SET ACCESS METHOD | SET TABLESPACE` (also
    `ALTER TABLE ALL IN TABLESPACE ... SET TABLESPACE`). They change no
    schema blue sees (phase none), but each copies the whole table.

    ## Why is this bad?
    The copy runs under ACCESS EXCLUSIVE: no reads, no writes until it is
    done, which for a large table means an outage. `VACUUM FULL` and `CLUSTER`
    without a table name do this to every table in turn.

    ## Use instead
    Use `pg_repack` (or `REPACK (CONCURRENTLY)` on PostgreSQL 19), or plan a
    maintenance window; keep it out of application migrations.
    """

    id, name, phase, severity = "N402", "table-rewrite-maintenance", Phase.NONE, Severity.ERROR
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.REWRITE
    nodes = (exp.Alter, exp.Alias, exp.Column)  # sqlglot reads `CLUSTER t` as an alias, `CLUSTER` as a column
    commands = (("ALTER", "TABLE"), ("VACUUM",), ("CLUSTER",))
    fix = "use pg_repack (or REPACK CONCURRENTLY) or a maintenance window, outside application migrations"

    def check(self, stmt, ctx):
        return never_raise(self, self._check(stmt, ctx))

    def _check(self, stmt, ctx):
        words = stmt.words
        if words[:1] == ("VACUUM",):
            yield from self._vacuum(stmt)
        elif words[:1] == ("CLUSTER",):
            target = next((t.text for t, w in zip(stmt.tokens[1:], words[1:]) if w not in ("VERBOSE", "(", ")")),
                          None)
            what = f"table {target}" if target else "every previously clustered table"
            yield self.hit(f"CLUSTER rewrites {what} under ACCESS EXCLUSIVE", table=target)
        elif words[2:5] == ("ALL", "IN", "TABLESPACE"):
            if "SET" in words and words[words.index("SET") + 1:words.index("SET") + 2] == ("TABLESPACE",):
                yield self.hit(f"moves every table in tablespace {stmt.tokens[5].text if len(words) > 5 else '?'}: "
                               "each one is copied under ACCESS EXCLUSIVE")
        else:
            alter = alter_table(stmt)
            if alter is None:
                return
            for action in alter.actions:
                what = self._alter_action(action)
                if what:
                    yield self.hit(f"{what} {alter.table}: copies the whole table under ACCESS EXCLUSIVE",
                                   table=alter.table, action=action.index)

    def _vacuum(self, stmt):
        found = vacuum_full(stmt)
        if found is None or not found[0]:
            return
        target = found[1]
        what = f"table {target}" if target else "every table of the database"
        yield self.hit(f"VACUUM FULL rewrites {what} under ACCESS EXCLUSIVE", table=target)

    @staticmethod
    def _alter_action(action) -> str | None:
        words = action.words
        if words in (("SET", "LOGGED"), ("SET", "UNLOGGED")):
            return f"SET {words[1]} rewrites"
        if words[:3] == ("SET", "ACCESS", "METHOD") and len(words) == 4:
            return f"SET ACCESS METHOD {action.text(3)} rewrites"
        if words[:2] == ("SET", "TABLESPACE") and (len(words) == 3 or words[3:] == ("NOWAIT",)):
            return f"SET TABLESPACE {action.text(2)} moves"
        return None
