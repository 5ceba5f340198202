from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule
from migrator.sql.words import dotted_name


class TableInheritance(AlterTableRule):
    """Add or remove a table's inheritance parent.

    ## What it does
    Finds `ALTER TABLE child INHERIT parent` (expand, warning) and `ALTER
    TABLE child NO INHERIT parent` (contract, warning). The child is locked
    ACCESS EXCLUSIVE for a moment, the parent SHARE UPDATE EXCLUSIVE
    (INHERIT) or ACCESS SHARE (NO INHERIT); nothing is scanned or rewritten.

    ## Why is this bad?
    Queries on the parent (without `ONLY`) read the children too. After
    `INHERIT`, blue's queries on the parent return the child's rows as well,
    which it never saw before; after `NO INHERIT` they silently stop returning
    them, and blue's reports and lookups miss rows.

    ## Use instead
    Attach a child only when blue's queries on the parent expect its rows (or
    use `ONLY`); detach it in the contract phase, after blue is gone.
    """

    id, name, phase, severity = "C332", "table-inheritance", Phase.CONTRACT, Severity.WARNING
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "detach the child in the contract phase, once no running code expects its rows in the parent"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            words = action.words
            no = words[:1] == ("NO",)
            if words[no:no + 1] != ("INHERIT",):
                continue
            parent, end = dotted_name(words, no + 1)
            if parent is None or end != len(words):
                continue
            if no:
                yield self.hit(f"{alter.table} stops inheriting from {parent}: blue's queries on {parent} no longer "
                               f"return {alter.table}'s rows", table=alter.table, action=action.index)
            else:
                yield self.hit(f"{alter.table} now inherits from {parent}: blue's queries on {parent} (without ONLY) "
                               f"also return {alter.table}'s rows", table=alter.table, action=action.index,
                               phase=Phase.EXPAND,
                               fix="make sure blue's queries on the parent expect the child's rows, or use ONLY")
