from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_constraint, new_table


class AddExclusionConstraint(AlterTableRule):
    """Add an exclusion constraint.

    ## What it does
    Finds `ALTER TABLE ... ADD [CONSTRAINT name] EXCLUDE USING ... (...)`.

    ## Why is this bad?
    The backing index is built inside the ALTER under ACCESS EXCLUSIVE, and
    there is no concurrent way to attach an exclusion constraint: reads and
    writes stop for the whole build. It also rejects writes blue may still
    make.

    ## Use instead
    Create the constraint on a new table and copy the data over, or add it
    in a maintenance window.
    """

    id, name, phase, severity = "C312", "add-exclusion-constraint", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may write conflicting rows"
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.INDEX
    fix = "create the constraint on a new table and copy the data, or plan a maintenance window"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_constraint(action)
            if spec is not None and spec.kind == "EXCLUDE":
                yield self.hit(f"adds {spec.label} to {alter.table}: builds its index under ACCESS EXCLUSIVE, with "
                               "no concurrent alternative", table=alter.table, action=action.index,
                               **new_table(ctx, alter.table))
