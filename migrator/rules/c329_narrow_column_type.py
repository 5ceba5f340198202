from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._alter import (AlterTableRule, alter_column, column_form, column_key, narrowing, new_table,
                                   type_change, type_label)


class NarrowColumnType(AlterTableRule):
    """Column type change that narrows the column.

    ## What it does
    Finds `ALTER TABLE ... ALTER COLUMN c TYPE t` (without `USING`) where
    the old type is known (from earlier statements, earlier migrations of the
    run, or the live catalog in `migrator plan`) and the new one holds less:
    `varchar(300)` to `varchar(255)`, `text` to `varchar(n)`, fewer integer
    digits or decimal places of a `numeric`, `bigint` to `integer`,
    `timestamptz` to `timestamp`, less timestamp precision, `double
    precision` to `real`. Contract, error. Widening is E108; a change whose
    old type is unknown is C303.

    ## Why is this bad?
    PostgreSQL converts every row under ACCESS EXCLUSIVE (a rewrite), and the
    statement fails if one existing row does not fit, after holding the lock
    for the whole scan. Until blue is gone it may still write values the new
    type refuses (its inserts and updates fail) or silently rounds or
    converts (decimal places, time zones).

    ## Use instead
    Contract phase, once blue is gone and green writes only values that fit:
    fix the rows that do not (`migrator plan` counts them), or add a `CHECK
    (char_length(c) <= 255) NOT VALID` constraint and validate it first; then
    change the type. Better: keep the wide type and enforce the limit with
    that CHECK.
    """

    id, name, phase, severity = "C329", "narrow-column-type", Phase.CONTRACT, Severity.ERROR
    lock = Lock.ACCESS_EXCLUSIVE
    rewrite = Rewrite.REWRITE
    fix = ("once blue is gone, fix the rows that do not fit (or validate a CHECK that proves they fit), then change "
           "the type; or keep the wide type and enforce the limit with a CHECK constraint")

    def check_alter(self, alter, ctx):
        version = ctx.settings.postgres_version
        for action in alter.actions:
            node = alter_column(action)
            if node is None or column_form(node) != "TYPE" or node.args.get("using") or node.args.get("collate"):
                continue
            old, new = ctx.column_types.get(column_key(alter, node)), node.args["dtype"]
            lost = narrowing(old, new)
            if lost is None:
                continue
            rewrite = Rewrite.NONE if type_change(old, new, version) == "utc" else Rewrite.REWRITE
            how = "under ACCESS EXCLUSIVE (no rewrite only with TimeZone UTC)" if rewrite is Rewrite.NONE else \
                "rewriting the table under ACCESS EXCLUSIVE"
            effect = "changes" if "rounded" in lost or "lost" in lost else "fails on"
            yield self.hit(f"narrows {alter.table}.{node.name} from {type_label(old)} to {type_label(new)}, "
                           f"{how}: the new type cannot hold {lost}; it {effect} existing rows that do not fit "
                           "and what blue may still write", table=alter.table, action=action.index,
                           rewrite=rewrite, **new_table(ctx, alter.table))
