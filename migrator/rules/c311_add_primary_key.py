from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_constraint, new_table


class AddPrimaryKey(AlterTableRule):
    """Add a primary key.

    ## What it does
    Finds `ALTER TABLE ... ADD [CONSTRAINT name] PRIMARY KEY (cols)`, which
    builds the index inside the ALTER (error), and `ADD CONSTRAINT name PRIMARY
    KEY USING INDEX idx` (warning): the index exists already, but PostgreSQL
    runs an implicit `SET NOT NULL` on every nullable key column, which scans
    the table under ACCESS EXCLUSIVE.

    ## Why is this bad?
    The index build (or the NOT NULL scan) holds ACCESS EXCLUSIVE: no reads,
    no writes. The key also rejects duplicate or NULL writes blue may still
    make.

    ## Use instead
    Make the key columns NOT NULL first without a scan (CHECK ... NOT VALID,
    VALIDATE, SET NOT NULL on PostgreSQL 12+), `CREATE UNIQUE INDEX
    CONCURRENTLY`, then `ADD CONSTRAINT name PRIMARY KEY USING INDEX idx`.
    """

    id, name, phase, severity = "C311", "add-primary-key", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may write duplicate or NULL keys"
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.INDEX
    fix = ("make the columns NOT NULL via a validated CHECK, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT "
           "... PRIMARY KEY USING INDEX")

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_constraint(action)
            if spec is None or spec.kind != "PRIMARY KEY":
                continue
            if spec.using_index:
                yield self.hit(f"attaches index {spec.using_index} as the primary key of {alter.table}: nullable key "
                               "columns get an implicit SET NOT NULL, which scans the table under ACCESS EXCLUSIVE",
                               table=alter.table, action=action.index,
                               fix="make the key columns NOT NULL first (CHECK ... NOT VALID, VALIDATE, SET NOT NULL)",
                               **new_table(ctx, alter.table, severity=Severity.WARNING, rewrite=Rewrite.SCAN))
            else:
                yield self.hit(f"adds a primary key to {alter.table}: builds a unique index (and sets NOT NULL) under "
                               "ACCESS EXCLUSIVE", table=alter.table, action=action.index,
                               **new_table(ctx, alter.table))
