from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import (AlterTableRule, alter_column, column_form, column_key, narrowing, new_table,
                                   type_change, type_label)


class AlterColumnType(AlterTableRule):
    """Column type change that rewrites the table.

    ## What it does
    Finds `ALTER TABLE ... ALTER COLUMN c [SET DATA] TYPE t` that is not a
    known binary-coercible change (E108): `int` to `bigint`, `text` to
    `varchar(n)`, any change with `USING` or `COLLATE`, and every change whose
    old type migrator cannot see in the same migration (fail closed). A known
    narrowing (`varchar(300)` to `varchar(255)`) is C329. On a
    table created earlier in the same migration it is an expand change and
    reports nothing.

    ## Why is this bad?
    PostgreSQL rewrites the table and rebuilds its indexes under ACCESS
    EXCLUSIVE: nothing can read or write it until that is done. Blue also
    reads and writes the column with the old type, so drivers and ORMs may
    break on the new one.

    ## Use instead
    Add a new column with the new type (expand), keep both in sync with a
    trigger or dual writes, backfill in batches (migrate), switch readers to
    the new column, and drop the old one once blue is gone (contract).
    """

    id, name, phase, severity = "C303", "alter-column-type", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may read or write the old type"
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.REWRITE
    fix = ("add a new column of the new type, sync it with a trigger, backfill in batches, switch readers, "
           "then drop the old column in the contract phase")

    def check_alter(self, alter, ctx):
        version = ctx.settings.postgres_version
        for action in alter.actions:
            node = alter_column(action)
            if node is None or column_form(node) != "TYPE":
                continue
            old = ctx.column_types.get(column_key(alter, node))
            new = node.args["dtype"]
            if node.args.get("using"):
                why = "with USING: PostgreSQL rewrites the table and its indexes"
            elif node.args.get("collate"):
                why = "with COLLATE: indexes on the column are rebuilt, treated as a rewrite"
            elif old is None:
                why = ("the current type is not known from this migration, so migrator assumes a rewrite of the "
                       "table and its indexes")
                if new.expressions:  # varchar(n), numeric(p, s): may be a narrowing
                    why += "; if it narrows the column, it fails on existing rows that do not fit"
            elif narrowing(old, new) is not None:
                continue  # C329 says what does not fit
            elif type_change(old, new, version) is None:
                why = f"{type_label(old)} is not binary-coercible to it: rewrites the table and its indexes"
            else:
                continue
            yield self.hit(f"changes the type of {alter.table}.{node.name} to {type_label(new)} under ACCESS "
                           f"EXCLUSIVE; {why}", table=alter.table, action=action.index, **new_table(ctx, alter.table))
