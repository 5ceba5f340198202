from migrator.phases import Phase, Severity
from migrator.rules._base import Rule, table_key
from migrator.sql.words import alter_target, command_actions, starts_with
from migrator.rules.trigger_fills import transaction


class TriggerDroppedBeforeColumn(Rule):
    """Trigger that filled a NOT NULL column dropped before the column.

    ## What it does
    Finds a column that is dropped (`DROP COLUMN`) or made nullable (`ALTER
    COLUMN ... DROP NOT NULL`) in a later transaction (or a later migration)
    than the one that dropped, disabled or cascaded away a `BEFORE INSERT`
    trigger whose function assigned it (`NEW.name := ...`), while the column
    was NOT NULL (or its nullability is not known to this run) and had no
    DEFAULT.

    ## Why is this bad?
    During an expand/contract rename, a dual-write trigger copies the new
    column into the old one, so green can insert rows without the old NOT NULL
    column. Once the transaction that drops the trigger commits, every insert
    that leaves the old column out fails with a NOT NULL violation, until the
    transaction that drops the column (or its NOT NULL) commits: green's writes
    fail in between, for as long as a `VALIDATE CONSTRAINT` or a retry loop
    takes, or for good when the migration stops halfway.

    ## Use instead
    Drop the column (or its NOT NULL) before the trigger, or in the same
    transaction: put `DROP TRIGGER` next to `DROP COLUMN`, after any step that
    commits on its own (`autocommit_block`, `VALIDATE CONSTRAINT` outside the
    transaction).
    """

    id, name, phase, severity = "P509", "trigger-dropped-before-column", Phase.NONE, Severity.ERROR
    every, classifies = True, False
    fix = ("drop the column (or its NOT NULL) in the same transaction as the trigger that fills it, or before it")

    def check(self, stmt, ctx):
        if not ctx.dropped_fills or not starts_with(stmt.words, "ALTER", "TABLE"):
            return
        table, _ = alter_target(stmt.words)
        if not table:
            return
        now = transaction(ctx)
        for action in command_actions(stmt):
            column, verb = _dropped_or_relaxed(action)
            if column is None:
                continue
            gone = ctx.dropped_fills.get((table_key(table), column))
            if gone is None or gone.transaction == now:
                continue
            where = ("earlier in this migration, in a transaction that commits first"
                     if gone.transaction[0] == now[0] else "in an earlier migration")
            null = "its NOT NULL" if gone.nullability_known else "a NOT NULL (if it has one)"
            yield self.hit(f"{verb} {table}.{column} only now, but trigger {gone.trigger}, which kept it filled for "
                           f"inserts, was dropped {where}: in between, inserts that leave {column} out fail on {null}",
                           table=table)


def _dropped_or_relaxed(action: tuple[str, ...]) -> tuple[str | None, str]:
    if action[:1] == ("DROP",) and action[1:2] != ("CONSTRAINT",):
        i = 2 if action[1:2] == ("COLUMN",) else 1
        i += 2 * (action[i:i + 2] == ("IF", "EXISTS"))
        if i < len(action):
            return action[i].strip('"').lower(), "drops"
    if action[:1] == ("ALTER",):
        i = 2 if action[1:2] == ("COLUMN",) else 1
        if action[i + 1:] == ("DROP", "NOT", "NULL"):
            return action[i].strip('"').lower(), "makes nullable"
    return None, ""
