from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, new_table


class AlterTriggerState(AlterTableRule):
    """Disable or enable triggers.

    ## What it does
    Finds `ALTER TABLE ... DISABLE TRIGGER name | ALL | USER` and `ENABLE
    [ALWAYS | REPLICA] TRIGGER ...` (sqlglot cannot parse them; read from
    tokens). Both take SHARE ROW EXCLUSIVE, which blocks writes briefly.
    `DISABLE` (and `ENABLE REPLICA`, after which the trigger no longer fires in
    normal sessions) is reported as a contract warning; `ENABLE` / `ENABLE
    ALWAYS` as expand info.

    ## Why is this bad?
    A disabled trigger may be the dual-write or sync trigger that keeps blue's
    and green's columns consistent during the rollout, or (`ALL`) the internal
    triggers that enforce foreign keys: integrity silently stops.

    ## Use instead
    Keep dual-write triggers enabled until blue is gone. Never disable `ALL`
    triggers on a live table; for bulk loads use a separate table.
    """

    id, name, phase, severity = "C326", "alter-trigger-state", Phase.CONTRACT, Severity.WARNING
    contract_precondition = "no running code may depend on the trigger"
    lock = Lock.SHARE_ROW_EXCLUSIVE
    fix = "keep dual-write and foreign-key triggers enabled while blue runs"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            words = action.words
            if len(words) == 3 and words[:2] == ("DISABLE", "TRIGGER"):
                target = action.text(2)
                extra = " including the internal foreign-key triggers" if words[2] == "ALL" else ""
                yield self.hit(f"disables trigger {target} on {alter.table}{extra}: writes stop firing it, which may "
                               "break a dual-write sync or referential integrity", table=alter.table,
                               action=action.index, **new_table(ctx, alter.table))
            elif len(words) == 4 and words[0] == "ENABLE" and words[1] == "REPLICA" and words[2] == "TRIGGER":
                yield self.hit(f"sets trigger {action.text(3)} on {alter.table} to fire only in replica sessions: "
                               "normal writes stop firing it", table=alter.table, action=action.index,
                               **new_table(ctx, alter.table))
            elif (len(words) == 3 and words[:2] == ("ENABLE", "TRIGGER")) or \
                    (len(words) == 4 and words[:3] == ("ENABLE", "ALWAYS", "TRIGGER")):
                yield self.hit(f"enables trigger {action.text(len(words) - 1)} on {alter.table}", table=alter.table,
                               action=action.index, phase=Phase.EXPAND, severity=Severity.INFO)
