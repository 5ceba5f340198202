from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, alter_column, column_form, column_key, new_table


class SetNotNull(AlterTableRule):
    """Set NOT NULL on an existing column.

    ## What it does
    Finds `ALTER TABLE ... ALTER COLUMN c SET NOT NULL`. PostgreSQL scans the
    whole table under ACCESS EXCLUSIVE to prove there is no NULL, unless (on
    PostgreSQL 12+) a validated `CHECK (c IS NOT NULL)` already proves it: an
    earlier statement of the same migration added it without `NOT VALID`, or
    validated it. Then the rule reports info. On a table created earlier in the
    same migration it is an expand change and reports nothing.

    ## Why is this bad?
    The scan blocks every read and write for its whole duration. And the
    restriction breaks blue if blue still inserts rows without the column or
    writes NULL into it.

    ## Use instead
    Contract phase, once blue is gone: `ADD CONSTRAINT c_not_null CHECK (c IS
    NOT NULL) NOT VALID`; commit; `VALIDATE CONSTRAINT c_not_null` (no
    blocking); `SET NOT NULL` (PostgreSQL 12+ skips the scan); `DROP CONSTRAINT
    c_not_null`.
    """

    id, name, phase, severity = "C305", "set-not-null", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may write NULL into the column"
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.SCAN
    fix = ("ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID; commit; VALIDATE CONSTRAINT; SET NOT NULL "
           "(PostgreSQL 12+ skips the scan); DROP CONSTRAINT")

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            node = alter_column(action)
            if node is None or column_form(node) != "SET NOT NULL":
                continue
            column = f"{alter.table}.{node.name}"
            if ctx.is_new_table(alter.table):
                yield self.hit(f"sets NOT NULL on {column} of a table created in this migration", table=alter.table,
                               action=action.index, **new_table(ctx, alter.table))
            elif column_key(alter, node) in ctx.not_null_checks and ctx.settings.postgres_version >= 12:
                yield self.hit(f"sets NOT NULL on {column}: a validated CHECK (IS NOT NULL) lets PostgreSQL skip the "
                               "scan; blue must no longer write NULL", table=alter.table, action=action.index,
                               severity=Severity.INFO, rewrite=Rewrite.NONE,
                               fix="drop the helper CHECK constraint afterwards")
            else:
                yield self.hit(f"sets NOT NULL on {column}: scans the whole table under ACCESS EXCLUSIVE, and blue's "
                               "writes of NULL fail", table=alter.table, action=action.index)
