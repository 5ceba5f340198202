from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_column, new_table


class AddColumnInlineConstraint(AlterTableRule):
    """Add a column with an inline REFERENCES, UNIQUE, PRIMARY KEY or CHECK.

    ## What it does
    Finds `ALTER TABLE ... ADD COLUMN` with an inline constraint:
    `REFERENCES` (foreign key), `UNIQUE`, `PRIMARY KEY` or `CHECK`.

    ## Why is this bad?
    The constraint is built or checked inside the ALTER, under its ACCESS
    EXCLUSIVE lock: UNIQUE and PRIMARY KEY build an index, CHECK and
    REFERENCES scan the table (REFERENCES also locks the referenced table in
    SHARE ROW EXCLUSIVE mode). Reads and writes stop for the duration. The
    constraint also restricts writes blue may still make.

    ## Use instead
    Add the plain column first (E101). Then: `CREATE UNIQUE INDEX
    CONCURRENTLY` and `ADD CONSTRAINT ... UNIQUE USING INDEX`; or
    `ADD CONSTRAINT ... FOREIGN KEY/CHECK ... NOT VALID` followed by
    `VALIDATE CONSTRAINT` in a later transaction.
    """

    id, name, phase, severity = "C302", "add-column-inline-constraint", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may write rows the constraint rejects"
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.SCAN
    fix = ("add the plain column, then CREATE UNIQUE INDEX CONCURRENTLY + ADD CONSTRAINT ... USING INDEX, or "
           "ADD CONSTRAINT ... NOT VALID + VALIDATE CONSTRAINT in a later transaction")

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_column(action)
            if spec is None or not spec.understood or not spec.inline:
                continue
            kinds = ", ".join(spec.inline)
            index = "UNIQUE" in spec.inline or "PRIMARY KEY" in spec.inline
            what = "builds an index" if index else "scans the table"
            if spec.references:
                what += f" (and locks {', '.join(spec.references)} SHARE ROW EXCLUSIVE)"
            yield self.hit(f"adds column {spec.name} to {alter.table} with inline {kinds}: {what} under ACCESS "
                           "EXCLUSIVE", table=alter.table, action=action.index,
                           **new_table(ctx, alter.table, rewrite=Rewrite.INDEX if index else Rewrite.SCAN))
