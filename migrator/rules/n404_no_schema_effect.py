from sqlglot import exp

from migrator.phases import Phase
from migrator.rules._base import Hit, Rule
from migrator.rules._objects import vacuum_full

# First words of statements that change neither schema nor data. sqlglot parses some of them into
# nonsense trees (START TRANSACTION -> Alias, ABORT -> Column), so the words decide, not the node type.
_NO_EFFECT = (
    ("SET",), ("RESET",), ("SHOW",), ("DISCARD",), ("ANALYZE",), ("ANALYSE",), ("VACUUM",),
    ("BEGIN",), ("START", "TRANSACTION"), ("COMMIT",), ("END",), ("ABORT",), ("ROLLBACK",),
    ("SAVEPOINT",), ("RELEASE",), ("CHECKPOINT",), ("COMMENT", "ON"), ("EXPLAIN",), ("VALUES",),
    ("LISTEN",), ("UNLISTEN",), ("DEALLOCATE",), ("SELECT",), ("WITH",), ("TABLE",),
)
_UNSAFE_SET = {"SCHEMA", "TABLESPACE", "LOGGED", "UNLOGGED", "WITHOUT", "ACCESS", "DATA"}
_DML = (exp.Update, exp.Delete, exp.Insert, exp.Merge)
_HARMLESS_FUNCS = frozenset({
    "set_config", "current_setting", "pg_advisory_lock", "pg_advisory_unlock", "pg_advisory_xact_lock",
    "pg_try_advisory_lock", "pg_try_advisory_xact_lock", "version", "current_schema", "pg_sleep",
    # catalog look-ups DO blocks guard with (`IF to_regclass('t_idx') IS NULL THEN ...`): they only read
    "to_regclass", "to_regtype", "to_regproc", "to_regprocedure", "to_regnamespace", "to_regrole", "to_regoper",
    "to_regoperator", "to_regcollation", "quote_ident", "quote_literal", "quote_nullable", "format_type",
    "has_table_privilege", "has_column_privilege", "has_schema_privilege", "has_database_privilege",
    "has_function_privilege", "has_sequence_privilege", "has_type_privilege", "pg_has_role",
    "pg_get_indexdef", "pg_get_constraintdef", "pg_get_viewdef", "pg_get_functiondef", "pg_get_triggerdef",
    "pg_get_expr", "pg_get_serial_sequence", "pg_table_is_visible", "pg_typeof", "obj_description",
    "col_description", "current_database", "pg_relation_size", "pg_total_relation_size",
})


class NoSchemaEffect(Rule):
    """Statement without schema or data effect.

    ## What it does
    Classifies statements that change neither the schema nor the data as phase
    `none`: `SET`/`RESET`, `BEGIN`/`START TRANSACTION`/`COMMIT`/`ROLLBACK`/
    `ABORT`, `SAVEPOINT`/`RELEASE`, read-only `SELECT` and `VALUES`, `SHOW`,
    `EXPLAIN` (not `EXPLAIN ANALYZE`, which runs the statement), `ANALYZE`,
    `VACUUM` (also `FREEZE` and `(FULL FALSE)`; not `FULL`, which is N402),
    `CHECKPOINT`, `COMMENT ON`, `DISCARD`, `LISTEN`.
    It reports nothing. A `SELECT` that calls an unknown function or holds a
    data-modifying CTE is not among them, and neither is `LOCK TABLE`;
    catalog look-ups (`to_regclass`, `has_table_privilege`,
    `pg_get_indexdef`, `quote_ident`, ...) are. A `DO` block whose body only
    reads, checks and RAISEs is `none` through this rule too.

    ## Why is this bad?
    It is not: these statements are safe in any phase. They are listed so that
    a statement is only ever called `none` by a rule that understood it.

    ## Use instead
    Nothing to change.
    """

    id, name, phase, severity = "N404", "no-schema-effect", Phase.NONE, None
    nodes = (exp.Set, exp.Transaction, exp.Commit, exp.Rollback, exp.Select, exp.Analyze, exp.Comment, exp.Show,
             exp.Values, exp.Alias, exp.Column, exp.Union)
    commands = _NO_EFFECT

    def check(self, stmt, ctx):
        words, node = stmt.words, stmt.node
        if not any(words[: len(p)] == p for p in _NO_EFFECT):
            return
        first = words[0]
        if first == "EXPLAIN" and "ANALYZE" in words[:4] or first == "EXPLAIN" and "ANALYSE" in words[:4]:
            return
        if first == "VACUUM":
            full = vacuum_full(stmt)  # VACUUM (FULL FALSE) is a plain VACUUM; FULL is N402
            if full is None or full[0]:
                return
        if first == "SET" and stmt.is_command and len(words) > 1 and words[1] in _UNSAFE_SET:
            return
        if first in ("SELECT", "WITH", "VALUES", "TABLE"):
            if not isinstance(node, (exp.Select, exp.Values, exp.Union)) or not _read_only(node):
                return
        yield self.hit("no schema or data effect")

    def empty_do_block(self) -> Hit:
        """A DO block whose body runs no statement (only reads, checks and RAISEs) has no effect either."""
        return self.hit("DO block that runs no statement")


def _read_only(node: exp.Expr) -> bool:
    """No data-modifying CTE, no SELECT INTO, no call that may write (unknown or user functions)."""
    if node.find(*_DML) is not None or node.find(exp.Into) is not None or node.args.get("into"):
        return False
    return all(_harmless_call(f) for f in node.find_all(exp.Anonymous))


def _harmless_call(func: exp.Expr) -> bool:
    return func.name.lower() in _HARMLESS_FUNCS
