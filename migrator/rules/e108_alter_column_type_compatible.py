from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import (AlterTableRule, alter_column, column_form, column_key, narrowing, type_change,
                                   type_label)


class AlterColumnTypeCompatible(AlterTableRule):
    """Binary-coercible column type change.

    ## What it does
    Finds `ALTER TABLE ... ALTER COLUMN c [SET DATA] TYPE t` without `USING`
    or `COLLATE` where PostgreSQL needs no table rewrite: `varchar(n)` to
    `varchar(m)` with m >= n, `varchar(n)` to `varchar` or `text`, `text` to
    `varchar`, `numeric(p,s)` to `numeric(q,s)` with q >= p or to `numeric`,
    `cidr` to `inet`, a wider `timestamp(p)`/`timestamptz(p)`, and (PostgreSQL
    12+) `timestamp` to `timestamptz`, which skips the rewrite only when the
    session `TimeZone` is UTC (reported as a warning; the other way round
    loses the offsets, C329). `char(n)` changes
    are not in the list: `bpchar` is padded, so they rewrite.

    The old type must be known from earlier statements of the same migration
    (`CREATE TABLE`, `ADD COLUMN`, an earlier `TYPE` change), of an earlier
    migration of the same run, or from the live catalog (`migrator plan`).
    When it is not, migrator assumes a rewrite (C303).

    ## Why is this bad?
    It is the safe kind of type change: a brief ACCESS EXCLUSIVE lock, no
    rewrite, indexes kept. Blue still reads the column and keeps working
    because the values do not change. A CHECK constraint on the column is
    re-validated anyway (C304).

    ## Use instead
    Keep it, with `SET lock_timeout`. For `timestamp` to `timestamptz` make
    sure the migration session runs with `SET TimeZone = 'UTC'`.
    """

    id, name, phase, severity = "E108", "alter-column-type-compatible", Phase.EXPAND, Severity.INFO
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "run it with SET lock_timeout and retry on timeout"

    def check_alter(self, alter, ctx):
        version = ctx.settings.postgres_version
        for action in alter.actions:
            node = alter_column(action)
            if node is None or column_form(node) != "TYPE" or node.args.get("using") or node.args.get("collate"):
                continue
            old = ctx.column_types.get(column_key(alter, node))
            new = node.args["dtype"]
            change = type_change(old, new, version)
            if change is None or narrowing(old, new) is not None:  # timestamptz -> timestamp is C329
                continue
            what = f"changes {alter.table}.{node.name} from {type_label(old)} to {type_label(new)}"
            if change == "utc":
                yield self.hit(f"{what}: no rewrite only if the session TimeZone is UTC (PostgreSQL 12+); otherwise "
                               "the table is rewritten under ACCESS EXCLUSIVE", table=alter.table,
                               action=action.index, severity=Severity.WARNING,
                               fix="run the migration with SET TimeZone = 'UTC' and SET lock_timeout")
            else:
                yield self.hit(f"{what}: binary-coercible, no table rewrite (brief ACCESS EXCLUSIVE lock)",
                               table=alter.table, action=action.index)
