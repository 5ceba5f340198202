from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule, table_name
from migrator.rules.n404_no_schema_effect import _harmless_call

_SEQUENCE_FUNCS = {"setval", "nextval"}
_KEY_NAMES = {"id", "ctid", "pk", "uuid", "key"}
_KEY_SUFFIXES = ("_id", "_pk", "_uuid", "_key")
_DML = (exp.Update, exp.Delete, exp.Insert, exp.Merge)


class DataChange(Rule):
    """Data change.

    ## What it does
    Classifies `UPDATE`, `DELETE`, `INSERT ... VALUES / SELECT` (also into
    composite fields and array elements, `INSERT INTO t (a.x, b[1])`), `MERGE`,
    `COPY ... FROM`, `WITH x AS (UPDATE/DELETE/INSERT ... RETURNING ...)
    SELECT ...` and `SELECT setval(...)` / `nextval(...)` as the migrate
    phase (ROW EXCLUSIVE lock plus row locks). An `UPDATE`/`DELETE` without a
    `WHERE`, or whose `WHERE` has no key range (`id BETWEEN 1 AND 10000`,
    `id < $1`, `id IN (...)`) or `LIMIT`ed subquery, an `INSERT ... SELECT`
    from tables and a `MERGE` from a table are warnings: one long
    transaction. Others are info. Data written into a table created earlier
    in the same migration (seed data) is expand, info.

    ## Why is this bad?
    A single statement over a big table holds its row locks, and every lock
    the migration's transaction took before it, until it commits: blue's
    writes to those rows wait, replicas lag, and dead tuples pile up. Inside
    a DDL transaction the table stays ACCESS EXCLUSIVE locked for the whole
    backfill.

    ## Use instead
    Backfill in its own migrate revision, outside the DDL's transaction, in
    batches by key range (`WHERE id >= :lo AND id < :hi`), committing and
    pausing between batches.
    """

    id, name, phase, severity = "M203", "data-change", Phase.MIGRATE, Severity.INFO
    lock = Lock.ROW_EXCLUSIVE
    changes_data = True
    nodes = (exp.Update, exp.Delete, exp.Insert, exp.Merge, exp.Copy, exp.Select)
    commands = (("INSERT", "INTO"),)
    fix = "batch it by key range in its own migrate revision, committing between batches"

    def check(self, stmt, ctx):
        node = stmt.node
        if stmt.is_command:
            node = _insert_into_fields(stmt)  # INSERT INTO t (col.field, col[1]) ...: sqlglot cannot parse it
            if node is None:
                return
        if isinstance(node, exp.Select):
            if node.args.get("with_") is not None:
                yield from self._writing_cte(node, ctx)
            else:
                yield from self._sequence(stmt, node)
            return
        table = table_name(node.this)
        if not table:
            return
        if isinstance(node, exp.Copy):
            if not node.args.get("kind"):  # COPY ... TO: not a data change
                return
            verb, unbatched = "loads rows into", False
        else:
            verb, unbatched = _describe(node)
            with_ = node.args.get("with_")
            if with_ is not None and with_.find(*_DML) is not None:
                # a data-modifying CTE writes another table in the same statement
                yield self.hit(f"{verb} {table} with a data-modifying CTE in one statement: a long transaction "
                               "that holds row locks; batch it", table=table, severity=Severity.WARNING)
                return
        if ctx.is_new_table(table):
            yield self.hit(f"{verb} {table}, a table created in this migration", table=table, phase=Phase.EXPAND,
                           fix="")
            return
        if unbatched:
            yield self.hit(f"{verb} {table} in one statement: a long transaction that holds row locks; batch it",
                           table=table, severity=Severity.WARNING)
        else:
            yield self.hit(f"{verb} {table}", table=table, fix="")

    def _writing_cte(self, node, ctx):
        """WITH x AS (UPDATE/DELETE/INSERT ... RETURNING ...) SELECT ...: the CTEs change data."""
        if node.args.get("into"):
            return
        writes = [cte.this for cte in node.args["with_"].expressions if isinstance(cte.this, _DML)]
        if not writes:
            return
        # functions the writes call are part of the data change (as in a plain UPDATE); others must be harmless
        inside = {id(f) for w in writes for f in w.find_all(exp.Anonymous)}
        if any(id(f) not in inside and not _harmless_call(f) for f in node.find_all(exp.Anonymous)):
            return
        tables = [table_name(w.this) for w in writes]
        if not all(tables):
            return
        if all(ctx.is_new_table(t) for t in tables):
            yield self.hit(f"changes rows of {', '.join(tables)}, created in this migration", table=tables[0],
                           phase=Phase.EXPAND, fix="")
            return
        verbs = [_describe(w) for w in writes]
        label = ", ".join(f"{verb} {t}" for (verb, _), t in zip(verbs, tables))
        if any(unbatched for _, unbatched in verbs):
            yield self.hit(f"{label} (in a WITH query) in one statement: a long transaction that holds row locks; "
                           "batch it", table=tables[0], severity=Severity.WARNING)
        else:
            yield self.hit(f"{label} (in a WITH query)", table=tables[0], fix="")

    def _sequence(self, stmt, node):
        if not any(t.text.lower() in _SEQUENCE_FUNCS for t in stmt.tokens) or node.args.get("into"):
            return
        names = []
        for f in node.find_all(exp.Anonymous):
            name = f.name.lower()
            if name in _SEQUENCE_FUNCS:
                parent = f.parent
                if isinstance(parent, exp.Dot) and parent.expression is f and parent.this.name.lower() != "pg_catalog":
                    return
                names.append(name)
            elif not _harmless_call(f):
                return
        if not names:
            return
        if "setval" in names:
            yield self.hit("sets a sequence's value (setval): a value below the table's largest key makes inserts "
                           "fail with duplicate keys", lock=None, fix="")
        else:
            yield self.hit("draws values from a sequence (nextval)", lock=None, fix="")


def _insert_into_fields(stmt) -> exp.Insert | None:
    """An INSERT whose target columns name composite fields or array elements (`(a.x, a[1])`), parsed with
    those targets cut to their columns: the same rows are written, the same table is locked."""
    import sqlglot

    from migrator.sql.split import dialect

    tokens, words = stmt.tokens, stmt.words
    i = 2
    while i + 1 < len(words) and words[i + 1] == ".":  # schema-qualified table
        i += 2
    open_ = i + 1
    if words[open_:open_ + 1] != ("(",):
        return None
    close, depth, fields = None, 0, False
    for j in range(open_, len(words)):
        if words[j] in ("(", "["):
            depth += 1
        elif words[j] in (")", "]"):
            depth -= 1
            if depth == 0:
                close = j
                break
        elif depth == 1 and words[j] == "." or depth == 2 and words[j - 1] == "[":
            fields = True
    if close is None or not fields:
        return None
    columns = []
    for item in _items(open_ + 1, close, words):
        if not item or words[item[0]] in (".", "[", ",", "(", ")"):
            return None
        for n, k in enumerate(item):  # each `.` is followed by a field name
            if words[k] == "." and (n + 1 == len(item) or words[item[n + 1]] in (".", "[", "]", "(", ")")):
                return None
        columns.append(tokens[item[0]].text)  # the column; its .field / [subscript] is cut
    base = stmt.start
    start, end = tokens[open_].start - base, tokens[close].end - base + 1
    if stmt.sql[start:start + 1] != "(" or stmt.sql[end - 1:end] != ")":
        return None
    text = f"{stmt.sql[:start]}({', '.join(columns)}){stmt.sql[end:]}"
    try:
        node = sqlglot.parse_one(text, read=dialect())
    except Exception:  # still unreadable: stays U000
        return None
    return node if isinstance(node, exp.Insert) else None


def _items(start: int, end: int, words) -> list[list[int]]:
    """Word indexes of the comma-separated items in words[start:end] (commas inside brackets kept)."""
    items: list[list[int]] = []
    current: list[int] = []
    depth = 0
    for j in range(start, end):
        w = words[j]
        depth += (w in ("(", "[")) - (w in (")", "]"))
        if w == "," and depth == 0:
            items.append(current)
            current = []
        else:
            current.append(j)
    items.append(current)
    return items


def _describe(node) -> tuple[str, bool]:
    """What the statement does and whether it is an unbatched bulk change."""
    if isinstance(node, exp.Update):
        return "updates", not _bounded(node.args.get("where"))
    if isinstance(node, exp.Delete):
        return "deletes from", not _bounded(node.args.get("where"))
    if isinstance(node, exp.Merge):
        using = node.args.get("using")
        return "merges into", not _constant_rows(using)
    source = node.args.get("expression")
    if source is None or _constant_rows(source):
        return "inserts into", False
    if isinstance(source, exp.Select) and (source.args.get("limit") or _bounded(source.args.get("where"))):
        return "inserts selected rows into", False
    return "inserts selected rows into", True


def _constant_rows(node) -> bool:
    """VALUES, or a SELECT that reads no table."""
    if isinstance(node, exp.Subquery):
        node = node.this
    if isinstance(node, exp.Values):
        return True
    return isinstance(node, exp.Select) and node.find(exp.Table) is None


def _bounded(where) -> bool:
    """The WHERE limits the statement to a key range, a key list or a LIMITed subquery."""
    if where is None:
        return False
    if any(s.args.get("limit") for s in where.find_all(exp.Select)):
        return True
    return _bound(where.this)


def _bound(cond) -> bool:
    while isinstance(cond, exp.Paren):
        cond = cond.this
    if isinstance(cond, exp.And):
        return _bound(cond.this) or _bound(cond.expression)
    if isinstance(cond, exp.Or):
        return _bound(cond.this) and _bound(cond.expression)
    if isinstance(cond, exp.Between):
        return _is_key(cond.this) and _const(cond.args.get("low")) and _const(cond.args.get("high"))
    if isinstance(cond, exp.In):
        return _is_key(cond.this) and bool(cond.expressions) and all(_const(e) for e in cond.expressions)
    if isinstance(cond, (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
        left, right = cond.this, cond.expression
        if isinstance(right, exp.Any):
            right = right.this
        return (_is_key(left) and _const(right)) or (_is_key(right) and _const(left))
    return False


def _is_key(node) -> bool:
    if not isinstance(node, exp.Column):
        return False
    name = node.name.lower()
    return name in _KEY_NAMES or name.endswith(_KEY_SUFFIXES)


def _const(node) -> bool:
    while isinstance(node, (exp.Paren, exp.Neg, exp.Cast)):
        node = node.this
    if isinstance(node, (exp.Literal, exp.Placeholder, exp.Parameter)):
        return True
    if isinstance(node, (exp.Array, exp.Tuple)):
        return bool(node.expressions) and all(_const(e) for e in node.expressions)
    return False
