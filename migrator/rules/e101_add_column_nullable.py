from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, add_column


class AddColumnNullable(AlterTableRule):
    """Add a nullable column without a default.

    ## What it does
    Finds `ALTER TABLE ... ADD COLUMN` of a nullable column with no default (or
    `DEFAULT NULL`), no identity/serial/generated clause and no inline
    constraint. PostgreSQL only changes the catalog: existing rows read the
    column as NULL without being touched.

    ## Why is this bad?
    It is not, on its own: blue ignores a column it does not know, so this is
    an expand change. The ACCESS EXCLUSIVE lock is held only for a moment, but
    while the ALTER waits for it (behind a long transaction) every other query
    on the table queues behind the ALTER. A column whose type is a domain with
    constraints is the exception: PostgreSQL then rewrites the table to check
    them.

    ## Use instead
    Keep it; run it with `SET lock_timeout = '2s'` (and retry) so a blocked
    ALTER gives up instead of stalling the table.
    """

    id, name, phase, severity = "E101", "add-column-nullable", Phase.EXPAND, Severity.INFO
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "run it with SET lock_timeout (e.g. '2s') and retry on timeout"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_column(action)
            if spec is None or not spec.understood or spec.inline:
                continue
            if spec.default is not None or spec.not_null or spec.serial or spec.identity or spec.generated:
                continue
            message = (f"adds nullable column {spec.name} ({spec.type_label}) to {alter.table} without a default: "
                       "catalog-only change under a brief ACCESS EXCLUSIVE lock")
            if spec.user_type:
                message += f"; if {spec.type_label} is a domain with constraints, PostgreSQL rewrites the table"
            yield self.hit(message, table=alter.table, action=action.index)
