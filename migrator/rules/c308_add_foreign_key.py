from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_constraint, new_table


class AddForeignKey(AlterTableRule):
    """Add a foreign key without NOT VALID.

    ## What it does
    Finds `ALTER TABLE ... ADD [CONSTRAINT name] FOREIGN KEY ... REFERENCES`
    without `NOT VALID`.

    ## Why is this bad?
    PostgreSQL takes SHARE ROW EXCLUSIVE on both the table and the referenced
    table and checks every existing row: writes to both tables stop until the
    scan ends. The restriction also rejects writes blue may still make.

    ## Use instead
    `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID` (brief lock, new rows
    checked), commit, then `VALIDATE CONSTRAINT` in a later transaction. Index
    the referencing columns too.
    """

    id, name, phase, severity = "C308", "add-foreign-key", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may write rows without a matching parent"
    lock = Lock.SHARE_ROW_EXCLUSIVE
    rewrite = Rewrite.SCAN
    fix = "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, commit, then VALIDATE CONSTRAINT in a later transaction"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_constraint(action)
            if spec is not None and spec.kind == "FOREIGN KEY" and not spec.not_valid:
                referenced = spec.references or "the referenced table"
                yield self.hit(f"adds {spec.label} from {alter.table} to {referenced} without NOT VALID: scans "
                               f"{alter.table} while writes to both tables are blocked (SHARE ROW EXCLUSIVE)",
                               table=alter.table, action=action.index, **new_table(ctx, alter.table))
