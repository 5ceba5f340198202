from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_constraint, new_table


class AddUniqueConstraint(AlterTableRule):
    """Add a UNIQUE constraint.

    ## What it does
    Finds `ALTER TABLE ... ADD [CONSTRAINT name] UNIQUE (cols)`, which builds
    the unique index inside the ALTER, and `ADD CONSTRAINT name UNIQUE USING
    INDEX idx`, which only attaches an index built beforehand (reported as
    info).

    ## Why is this bad?
    Building the index holds ACCESS EXCLUSIVE for the whole build: no reads,
    no writes. It fails on existing duplicates, and afterwards rejects
    duplicate writes blue may still make.

    ## Use instead
    `CREATE UNIQUE INDEX CONCURRENTLY idx ON t (cols)` (outside a
    transaction), then `ALTER TABLE t ADD CONSTRAINT name UNIQUE USING INDEX
    idx` (brief lock).
    """

    id, name, phase, severity = "C310", "add-unique-constraint", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may write duplicate values"
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.INDEX
    fix = "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_constraint(action)
            if spec is None or spec.kind != "UNIQUE":
                continue
            if spec.using_index:
                yield self.hit(f"attaches index {spec.using_index} as {spec.label} on {alter.table}: brief lock, "
                               "no index build; blue's duplicate writes now fail", table=alter.table,
                               action=action.index,
                               **new_table(ctx, alter.table, severity=Severity.INFO, rewrite=Rewrite.NONE))
            else:
                yield self.hit(f"adds {spec.label} to {alter.table}: builds a unique index under ACCESS EXCLUSIVE",
                               table=alter.table, action=action.index, **new_table(ctx, alter.table))
