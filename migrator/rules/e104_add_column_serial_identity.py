from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import AlterTableRule, add_column, new_table


class AddColumnSerialIdentity(AlterTableRule):
    """Add a serial or identity column.

    ## What it does
    Finds `ALTER TABLE ... ADD COLUMN` of type `serial`/`bigserial`/
    `smallserial` (`serial2/4/8`) or with `GENERATED ALWAYS|BY DEFAULT AS
    IDENTITY`.

    ## Why is this bad?
    Every existing row needs its own value from the sequence (`nextval()` is
    volatile), so PostgreSQL rewrites the whole table under ACCESS EXCLUSIVE:
    reads and writes stop until the copy finishes.

    ## Use instead
    Add a plain nullable `bigint` column, create the sequence and
    `SET DEFAULT nextval(...)` (new rows only), backfill existing rows in
    batches, then add `NOT NULL` via a validated CHECK. For a new surrogate key
    on a large table, a new table plus copy is often simpler.
    """

    id, name, phase, severity = "E104", "add-column-serial-identity", Phase.EXPAND, Severity.ERROR
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.REWRITE
    fix = ("add a nullable bigint column, SET DEFAULT nextval('<seq>') for new rows, backfill existing rows in "
           "batches, then NOT NULL via a validated CHECK")

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            spec = add_column(action)
            if spec is None or not spec.understood or spec.generated or not (spec.serial or spec.identity):
                continue
            what = spec.type_label if spec.serial else "identity"
            yield self.hit(f"adds {what} column {spec.name} to {alter.table}: every existing row gets a sequence "
                           "value, so PostgreSQL rewrites the whole table under ACCESS EXCLUSIVE",
                           table=alter.table, action=action.index, **new_table(ctx, alter.table))
