"""Update a migration's Context after each statement, for the rules that read it."""

from __future__ import annotations

from sqlglot import exp

from migrator.phases import Lock
from migrator.rules import Context, Hit, table_key, table_name
from migrator.sql.split import Statement
from migrator.sql.words import command_actions, contains, starts_with
from migrator.rules.function_users import observe_function_users
from migrator.rules.trigger_fills import defaults_of_create, observe_fills


def _detached(node: exp.DataType) -> exp.DataType:
    """A copy of a column's type without its parent: the node itself would keep the whole statement's tree
    alive for the rest of the run (bench/classify_memory.py: 1.36 GB at 50 MiB)."""
    return node.copy()


def observe(ctx: Context, stmt: Statement, hits: list[Hit]) -> None:
    ctx.statements_seen += 1
    node = stmt.node
    words = stmt.words
    observe_fills(ctx, stmt)
    observe_function_users(ctx, stmt)
    if isinstance(node, exp.Transaction) or starts_with(words, "BEGIN") or starts_with(words, "START", "TRANSACTION"):
        ctx.transaction_depth += 1
        ctx.in_transaction = True
        return
    if isinstance(node, (exp.Commit, exp.Rollback)) or words[:1] in (("COMMIT",), ("END",), ("ROLLBACK",), ("ABORT",)):
        ctx.transaction_depth = max(0, ctx.transaction_depth - 1)
        ctx.in_transaction = ctx.transaction_depth > 0
        ctx.exclusive_in_transaction.clear()
        ctx.not_valid_in_transaction.clear()
        ctx.altered_tables.clear()
        ctx.transaction_number += 1
        return
    if not ctx.transactional:  # autocommit: the statement was a transaction of its own
        ctx.transaction_number += 1
    if _sets_lock_timeout(node, words):
        ctx.lock_timeout_set = True
        return

    for h in hits:
        if h.lock == Lock.ACCESS_EXCLUSIVE and h.table and ctx.transactional and not ctx.is_new_table(h.table):
            ctx.exclusive_in_transaction.setdefault(table_key(h.table), stmt.line)
    if any(h.lock is not None for h in hits):
        ctx.ddl_seen = True

    if isinstance(node, exp.Create):
        _observe_create(ctx, node)
    elif isinstance(node, exp.Alter):
        _observe_alter(ctx, node, stmt)
    elif stmt.is_command and words[:2] == ("ALTER", "TABLE") and ctx.pending_not_null_checks:
        _observe_validate(ctx, stmt)
    elif stmt.is_command and words[1:2] == ("POLICY",):
        _observe_policy(ctx, words)
    elif stmt.is_command and words[:1] == ("CREATE",):
        _observe_create_command(ctx, words)
    elif isinstance(node, exp.Select) and isinstance(node.args.get("into"), exp.Into):
        name = table_name(node.args["into"].this)  # SELECT ... INTO new_table
        if name:
            ctx.created_tables.add(table_key(name))


def _observe_create_command(ctx: Context, words: tuple[str, ...]) -> None:
    """CREATE TABLE forms sqlglot cannot parse (`OF type`, some constraint options) still create a table;
    so does a CREATE MATERIALIZED VIEW sqlglot cannot parse."""
    from migrator.rules import create_kind, skip_if_exists
    from migrator.sql.words import dotted_name

    kind, i, _ = create_kind(words)
    if kind in ("TABLE", "MATERIALIZED VIEW"):
        name, _ = dotted_name(words, skip_if_exists(words, i))
        if name:
            ctx.created_tables.add(table_key(name))


def _observe_policy(ctx: Context, words: tuple[str, ...]) -> None:
    """CREATE / ALTER / DROP POLICY: which policies a table has, for the row level security rule (C331)."""
    from migrator.rules import read_policy

    info = read_policy(words)
    if info is None:
        return
    policies = ctx.policies.setdefault(table_key(info.table), {})
    name = info.name.rsplit(".", 1)[-1]
    if words[0] == "DROP":
        policies.pop(name, None)
    elif info.rename:
        policies[info.rename] = policies.pop(name, "some")
    elif words[0] == "CREATE":
        policies[name] = "restrictive" if info.restrictive else "all" if info.admits_all else "some"
    elif policies.get(name) != "restrictive":  # ALTER POLICY: judged on the clauses it names alone
        policies[name] = "all" if info.admits_all and info.roles is not None else "some"


def _sets_lock_timeout(node, words) -> bool:
    if isinstance(node, exp.Set):
        return any("LOCK_TIMEOUT" in item.sql().upper() for item in node.expressions)
    return bool(words) and words[0] == "SET" and contains(words, "LOCK_TIMEOUT")


def _columns(nodes) -> tuple[str, ...]:
    out = []
    for n in nodes or []:
        if isinstance(n, exp.Ordered):
            n = n.this
        out.append((n.name if hasattr(n, "name") else str(n)).lower())
    return tuple(out)


def _observe_create(ctx: Context, node: exp.Create) -> None:
    kind = (node.args.get("kind") or "").upper()
    if kind == "VIEW" and _materialized(node):
        # a new relation blue does not know: indexes on it lock nobody out (as for a new table)
        name = table_name(node.this)
        if name:
            ctx.created_tables.add(table_key(name))
    elif kind == "TABLE":
        name = table_name(node.this)
        if not name:
            return
        defaults_of_create(ctx, node)
        key = table_key(name)
        ctx.created_tables.add(key)
        schema = node.this if isinstance(node.this, exp.Schema) else None
        for col in (schema.expressions if schema else []):
            if isinstance(col, exp.ColumnDef):
                if isinstance(col.args.get("kind"), exp.DataType):
                    ctx.column_types[(key, col.name.lower())] = _detached(col.args["kind"])
                for c in col.args.get("constraints") or []:
                    kind_node = c.args.get("kind")
                    if isinstance(kind_node, (exp.NotNullColumnConstraint, exp.PrimaryKeyColumnConstraint)):
                        if not (isinstance(kind_node, exp.NotNullColumnConstraint) and kind_node.args.get("allow_null")):
                            ctx.not_null_columns.add((key, col.name.lower()))
                    if isinstance(kind_node, exp.CheckColumnConstraint):
                        ctx.checked_columns.add((key, col.name.lower()))
                    if isinstance(kind_node, exp.Reference):
                        ctx.foreign_keys.append((key, (col.name.lower(),), ctx.statements_seen - 1))
                    if isinstance(kind_node, (exp.PrimaryKeyColumnConstraint, exp.UniqueColumnConstraint)):
                        ctx.indexed.add((key, (col.name.lower(),)))
            elif isinstance(col, exp.PrimaryKey):
                ctx.indexed.add((key, _columns(col.expressions)))
            elif isinstance(col, exp.UniqueColumnConstraint) and isinstance(col.this, exp.Schema):
                ctx.indexed.add((key, _columns(col.this.expressions)))
            elif isinstance(col, (exp.Constraint, exp.CheckColumnConstraint)):
                for column in col.find_all(exp.Column):
                    ctx.checked_columns.add((key, column.name.lower()))
            if isinstance(col, exp.Constraint) or isinstance(col, exp.ForeignKey):
                for fk in col.find_all(exp.ForeignKey):
                    ctx.foreign_keys.append((key, _columns(fk.expressions), ctx.statements_seen - 1))
    elif kind == "INDEX":
        index = node.this
        table = table_name(index.args.get("table")) if isinstance(index, exp.Index) else None
        params = index.args.get("params") if isinstance(index, exp.Index) else None
        if table and params is not None:
            ctx.indexed.add((table_key(table), _columns(params.args.get("columns"))))


def _materialized(node: exp.Create) -> bool:
    props = node.args.get("properties")
    return isinstance(props, exp.Properties) and any(isinstance(p, exp.MaterializedProperty) for p in props.expressions)


def _observe_alter(ctx: Context, node: exp.Alter, stmt: Statement | None = None) -> None:
    name = table_name(node.this)
    if not name or (node.args.get("kind") or "TABLE").upper() != "TABLE":
        return
    key = table_key(name)
    ctx.altered_tables[key] = ctx.altered_tables.get(key, 0) + 1
    actions = node.args.get("actions") or []
    per_action = _not_valid_per_action(stmt, len(actions))
    for i, action in enumerate(actions):
        if isinstance(action, exp.ColumnDef):
            if isinstance(action.args.get("kind"), exp.DataType):
                ctx.column_types[(key, action.name.lower())] = _detached(action.args["kind"])
            for c in action.args.get("constraints") or []:
                if isinstance(c.args.get("kind"), exp.Reference):
                    ctx.foreign_keys.append((key, (action.name.lower(),), ctx.statements_seen - 1))
        elif isinstance(action, exp.AddConstraint):
            for constraint in action.expressions:
                check = constraint.find(exp.CheckColumnConstraint)
                not_valid = per_action[i] if per_action is not None else bool(node.args.get("not_valid"))
                if check is not None:
                    for column in check.find_all(exp.Column):
                        ctx.checked_columns.add((key, column.name.lower()))
                    for is_null in check.find_all(exp.Is):
                        negated = is_null.args.get("negate") or isinstance(is_null.parent, exp.Not)
                        if negated and isinstance(is_null.this, exp.Column):
                            if not not_valid:
                                ctx.not_null_checks.add((key, is_null.this.name.lower()))
                            elif isinstance(constraint, exp.Constraint):
                                ctx.pending_not_null_checks[constraint.name.lower()] = (key, is_null.this.name.lower())
                if not_valid and ctx.transactional and isinstance(constraint, exp.Constraint):
                    ctx.not_valid_in_transaction[constraint.name.lower()] = key
                for fk in constraint.find_all(exp.ForeignKey):
                    ctx.foreign_keys.append((key, _columns(fk.expressions), ctx.statements_seen - 1))
        elif isinstance(action, exp.AlterColumn) and action.args.get("allow_null") is False:
            ctx.not_null_columns.add((key, action.name.lower()))
        elif isinstance(action, exp.AlterColumn) and isinstance(action.args.get("dtype"), exp.DataType):
            ctx.column_types[(key, action.name.lower())] = _detached(action.args["dtype"])


def _not_valid_per_action(stmt: Statement | None, count: int) -> list[bool] | None:
    """NOT VALID per action, read from the tokens (sqlglot keeps one flag for the whole statement)."""
    if stmt is None or stmt.words[:2] != ("ALTER", "TABLE"):
        return None
    actions = command_actions(stmt)
    if len(actions) != count:
        return None
    return [a[-2:] == ("NOT", "VALID") for a in actions]


def _observe_validate(ctx: Context, stmt: Statement) -> None:
    """ALTER TABLE ... VALIDATE CONSTRAINT c: a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip its scan."""
    for action in command_actions(stmt):
        if action[:2] == ("VALIDATE", "CONSTRAINT") and len(action) == 3:
            pair = ctx.pending_not_null_checks.pop(action[2].lower(), None)
            if pair is not None:
                ctx.not_null_checks.add(pair)
