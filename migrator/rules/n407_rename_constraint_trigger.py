from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, alter_table, never_raise
from migrator.sql.words import dotted_name, find


class RenameConstraintTrigger(AlterTableRule):
    """Rename a constraint or a trigger.

    ## What it does
    Classifies `ALTER TABLE ... RENAME CONSTRAINT a TO b` and `ALTER TRIGGER
    t ON table RENAME TO u` as phase `none` (info), like an index rename
    (N405): only the catalog changes. Both take ACCESS EXCLUSIVE on the
    table for a moment (measured on PostgreSQL 15).

    ## Why is this bad?
    Mostly it is not: applications do not name constraints or triggers in
    their queries. Code that does (`ON CONFLICT ON CONSTRAINT old_name`, error
    handlers that match a constraint name, `ALTER TABLE ... DISABLE TRIGGER
    old_name` in scripts) sees the new name at once. The lock is brief but
    queues behind long transactions on the table.

    ## Use instead
    Keep it, with `SET lock_timeout`; check that no code of blue's matches
    the old name.
    """

    id, name, phase, severity = "N407", "rename-constraint-trigger", Phase.NONE, Severity.INFO
    lock = Lock.ACCESS_EXCLUSIVE
    commands = (("ALTER", "TABLE"), ("ALTER", "TRIGGER"))
    fix = ""

    def check(self, stmt, ctx):
        if stmt.words[:2] == ("ALTER", "TRIGGER"):
            return never_raise(self, self._trigger(stmt.words))
        alter = alter_table(stmt)
        return never_raise(self, self.check_alter(alter, ctx)) if alter is not None else ()

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            words = action.words
            if len(words) == 5 and words[:2] == ("RENAME", "CONSTRAINT") and words[3] == "TO":
                yield self.hit(f"renames constraint {action.text(2)} of {alter.table} to {action.text(4)}: catalog "
                               "only (ON CONFLICT ON CONSTRAINT and code matching the old name see the new one)",
                               table=alter.table, action=action.index)

    def _trigger(self, words):
        name, i = dotted_name(words, 2)
        if name is None or words[i:i + 1] != ("ON",):
            return
        table, end = dotted_name(words, i + 1)
        if table is None or len(words) != end + 3 or words[end:end + 2] != ("RENAME", "TO") or find(words, "(") >= 0:
            return
        yield self.hit(f"renames trigger {name} on {table} to {words[end + 2].lower()}: catalog only", table=table)
