"""Live-data preflight: will this step fail on the rows the database has now?

    found = preflight(conn, [(revision, line, sql), ...])      # the plan's statements, in order
    found[0].message     # "would fail: 3 rows in item.title longer than 128"

For each restrictive statement the rows that would make it fail are counted on the live database:
NULLs before `SET NOT NULL` (and a non-empty table before `ADD COLUMN ... NOT NULL` without a default),
duplicates before a UNIQUE / PRIMARY KEY constraint or a unique index, orphans before a FOREIGN KEY,
violating rows before a CHECK (at `ADD` without NOT VALID, or at `VALIDATE CONSTRAINT`, whose definition
comes from an earlier statement of the plan or from the live catalog), values that do not fit before a
narrowing type change (varchar/char length, numeric precision and scale).

Each count runs in a READ ONLY transaction with its own statement_timeout and lock_timeout: a plain SELECT,
so nothing stronger than ACCESS SHARE is ever taken. A table with more rows than `sample_above` is counted
on a TABLESAMPLE and the count is scaled (and marked "sampled"). A count that times out or fails is shown
as unknown with the reason, never as zero.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

DEFAULT_TIMEOUT_MS = 5000
DEFAULT_SAMPLE_ABOVE = 5_000_000  # rows (reltuples) above which a count runs on a sample
SAMPLE_ROWS = 500_000  # about how many rows a sample reads


@dataclass
class Preflight:
    revision: str
    line: int
    kind: str  # not-null | non-empty | unique | foreign-key | check | narrowing
    table: str
    what: str  # "in item.title longer than 128": follows "N row(s)"
    query: str
    count: int | None = None  # None: unknown (see error)
    sampled: bool = False
    seconds: float = 0.0
    error: str | None = None
    pending: bool = False  # counts a column or table an earlier step of the release creates: the contract gate does

    @property
    def fails(self) -> bool:
        return bool(self.count)

    @property
    def message(self) -> str:
        if self.pending:
            return f"counted by the contract gate ({self.error}): {self.what}"
        if self.count is None:
            return f"not counted ({self.error}): {self.what}"
        approx = "about " if self.sampled else ""
        if self.count:
            return f"would fail: {approx}{self.count:,} {'row' if self.count == 1 else 'rows'} {self.what}"
        return f"ok: no row {self.what}" + (" (sampled)" if self.sampled else "")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "table": self.table, "what": self.what, "count": self.count,
                "sampled": self.sampled, "error": self.error, "pending": self.pending,
                "fails": self.fails, "message": self.message}


@dataclass
class _Constraint:
    table: str
    kind: str  # check | foreign-key
    definition: object  # sqlglot node: the CHECK expression, or the ForeignKey


@dataclass
class _State:
    constraints: dict[str, _Constraint] = field(default_factory=dict)  # NOT VALID ones added earlier in the plan


def preflight(conn, statements, *, timeout_ms: int = DEFAULT_TIMEOUT_MS, sample_above: int = DEFAULT_SAMPLE_ABOVE,
              sample_rows: int = SAMPLE_ROWS) -> list[Preflight]:
    """Count, for each (revision, line, sql) that can fail on existing rows, the rows that make it fail.
    `conn`: a psycopg connection to the live database (autocommit)."""
    state = _State()
    found: list[Preflight] = []
    earlier: list[str] = []
    for revision, line, sql in statements:
        for kind, table, what, query in _checks(sql, state, conn):
            item = _count(conn, Preflight(revision, line, kind, table, what, query), timeout_ms,
                          sample_above, sample_rows)
            found.append(_created_earlier(item, earlier))
        earlier.append(sql)
    return found


def _created_earlier(item: Preflight, earlier: list[str]) -> Preflight:
    """A count on a column or table that is not there yet because an earlier step of this release adds it (a
    SET NOT NULL in contract on a column expand adds): no error, the contract gate counts it."""
    import re

    missing = re.match(r'(column|relation) "([^"]+)" does not exist', item.error or "")
    if not missing:
        return item
    name = re.escape(missing.group(2).split(".")[-1])
    made = (rf"\bADD\s+(COLUMN\s+)?(IF\s+NOT\s+EXISTS\s+)?\"?{name}\b" if missing.group(1) == "column"
            else rf"\bCREATE\s+(UNLOGGED\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\w+\.)?\"?{name}\b")
    if any(re.search(made, sql, re.IGNORECASE) for sql in earlier):
        item.pending = True
        item.error = f"{missing.group(2)} is added by an earlier step of this release"
    return item


# --- which statements can fail, and the count that says so -----------------------------------------------------
def _parse(sql: str):
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel

    try:
        node = sqlglot.parse_one(sql, read="postgres", error_level=ErrorLevel.IGNORE)
    except Exception:  # noqa: BLE001 - unreadable: no preflight (the classifier reports it)
        return None
    return node if isinstance(node, exp.Expression) else None


def _sql(node) -> str:
    return node.sql(dialect="postgres")


def _checks(sql: str, state: _State, conn) -> list[tuple[str, str, str, str]]:
    from sqlglot import exp

    words = sql.split()
    upper = [w.upper() for w in words]
    if upper[:2] == ["ALTER", "TABLE"] and "VALIDATE" in upper and "CONSTRAINT" in upper:
        return _validate(words, upper, state, conn)
    node = _parse(sql)
    if isinstance(node, exp.Create) and (node.args.get("kind") or "").upper() == "INDEX":
        return _unique_index(node)
    if not isinstance(node, exp.Alter) or (node.args.get("kind") or "").upper() != "TABLE":
        return []
    table = _sql(node.this)
    not_valid = bool(node.args.get("not_valid")) or "NOT VALID" in " ".join(upper[-2:])
    out = []
    for action in node.args.get("actions") or []:
        out += _action(table, action, state, not_valid)
    return out


def _action(table: str, action, state: _State, not_valid: bool = False) -> list[tuple[str, str, str, str]]:
    from sqlglot import exp

    if isinstance(action, exp.AlterColumn):
        column = _sql(action.this)
        if action.args.get("allow_null") is False:
            return [("not-null", table, f"in {table}.{column} that is NULL",
                     f"SELECT count(*) FROM {table} WHERE {column} IS NULL")]
        dtype = action.args.get("dtype")
        if dtype is not None and not action.args.get("using"):
            return _narrowing(table, column, dtype)
        return []
    if isinstance(action, exp.ColumnDef):
        constraints = action.args.get("constraints") or []
        not_null = any(isinstance(c.args.get("kind"), exp.NotNullColumnConstraint) and not c.args["kind"].args.get("allow_null")
                       for c in constraints)
        default = any(isinstance(c.args.get("kind"), exp.DefaultColumnConstraint) for c in constraints)
        if not_null and not default:
            return [("non-empty", table, f"in {table} (a new NOT NULL column without a default fails on any)",
                     f"SELECT count(*) FROM {table}")]
        return []
    if isinstance(action, exp.AddConstraint):
        out = []
        for constraint in action.expressions:
            name = constraint.this.name if isinstance(constraint, exp.Constraint) and constraint.this else None
            for spec in (constraint.expressions if isinstance(constraint, exp.Constraint) else [constraint]):
                out += _constraint(table, name, spec, state, not_valid)
        return out
    return []


def _constraint(table: str, name: str | None, spec, state: _State, not_valid: bool) -> list[tuple[str, str, str, str]]:
    from sqlglot import exp

    if isinstance(spec, (exp.UniqueColumnConstraint, exp.PrimaryKey, exp.PrimaryKeyColumnConstraint)):
        target = spec.this if isinstance(spec, exp.UniqueColumnConstraint) else spec
        columns = [_sql(c) for c in (target.expressions if target is not None else [])]
        if not columns:
            return []  # UNIQUE USING INDEX: the index is unique already
        primary = not isinstance(spec, exp.UniqueColumnConstraint)
        return _duplicates(table, columns, None, primary)
    if isinstance(spec, exp.ForeignKey):
        if not_valid:
            if name:
                state.constraints[name.lower()] = _Constraint(table, "foreign-key", spec)
            return []
        return [_orphans(table, spec)]
    if isinstance(spec, exp.CheckColumnConstraint):
        expression = spec.this
        if not_valid:
            if name:
                state.constraints[name.lower()] = _Constraint(table, "check", expression)
            return []
        return [_violations(table, _sql(expression))]
    return []


def _duplicates(table: str, columns: list[str], where: str | None, primary: bool) -> list[tuple[str, str, str, str]]:
    keys = ", ".join(columns)
    not_null = " AND ".join(f"({c}) IS NOT NULL" for c in columns)
    condition = f"{not_null} AND ({where})" if where else not_null
    out = [("unique", table, f"duplicating another in {table} ({keys})",
            f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {table} WHERE {condition} "
            f"GROUP BY {keys} HAVING count(*) > 1) AS duplicates")]
    if primary:
        nulls = " OR ".join(f"({c}) IS NULL" for c in columns)
        out.append(("not-null", table, f"in {table} with a NULL in ({keys})",
                    f"SELECT count(*) FROM {table} WHERE {nulls}"))
    return out


def _unique_index(node) -> list[tuple[str, str, str, str]]:
    from sqlglot import exp

    if not node.args.get("unique"):
        return []
    index = node.this
    if not isinstance(index, exp.Index):
        return []
    params = index.args.get("params")
    columns = [_sql(o.this if isinstance(o, exp.Ordered) else o) for o in (params.args.get("columns") or [])] if params else []
    table = index.args.get("table")
    if not columns or table is None:
        return []
    where = params.args.get("where") if params else None
    predicate = _sql(where.this) if where is not None and where.this is not None else None
    return _duplicates(_sql(table), columns, predicate, primary=False)


def _orphans(table: str, fk) -> tuple[str, str, str, str]:
    reference = fk.args.get("reference")
    columns = [_sql(c) for c in fk.expressions]
    parent = reference.this if reference is not None else None
    parent_table = _sql(parent.this if parent is not None and parent.this is not None else parent)
    parent_columns = [_sql(c) for c in (parent.expressions if parent is not None else [])] or ["id"]
    joined = " AND ".join(f"p.{pc} = c.{cc}" for cc, pc in zip(columns, parent_columns))
    present = " AND ".join(f"c.{cc} IS NOT NULL" for cc in columns)
    return ("foreign-key", table, f"in {table} ({', '.join(columns)}) with no match in {parent_table}",
            f"SELECT count(*) FROM {table} AS c WHERE {present} AND NOT EXISTS "
            f"(SELECT 1 FROM {parent_table} AS p WHERE {joined})")


def _violations(table: str, expression: str) -> tuple[str, str, str, str]:
    return ("check", table, f"in {table} violating CHECK ({expression})",
            f"SELECT count(*) FROM {table} WHERE NOT ({expression})")


def _validate(words: list[str], upper: list[str], state: _State, conn) -> list[tuple[str, str, str, str]]:
    i = upper.index("TABLE") + 1
    if upper[i:i + 2] == ["IF", "EXISTS"]:
        i += 2
    if upper[i] == "ONLY":
        i += 1
    table = words[i]
    name = words[upper.index("CONSTRAINT") + 1].rstrip(";").strip('"')
    known = state.constraints.get(name.lower())
    if known is not None:
        if known.kind == "check":
            return [_violations(known.table, _sql(known.definition))]
        return [_orphans(known.table, known.definition)]
    row = conn.execute("SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s "
                       "AND conrelid = to_regclass(%s)", (name, table)).fetchone()
    if row is None:
        return []
    contype, definition = row
    node = _parse(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    if node is None:
        return []
    out = []
    for action in node.args.get("actions") or []:
        out += _action(table, action, _State())  # NOT VALID is not in a definition: counted as added valid
    return out


def _narrowing(table: str, column: str, dtype) -> list[tuple[str, str, str, str]]:
    name = dtype.this.name.upper() if hasattr(dtype.this, "name") else str(dtype.this).upper()
    params = [p for p in dtype.expressions]
    values = []
    for p in params:
        try:
            values.append(int(_sql(p)))
        except ValueError:
            return []
    if name in ("VARCHAR", "CHAR", "NCHAR", "NVARCHAR") and values:
        n = values[0]
        return [("narrowing", table, f"in {table}.{column} longer than {n}",
                 f"SELECT count(*) FROM {table} WHERE char_length({column}::text) > {n}")]
    if name in ("DECIMAL", "NUMERIC") and values:
        precision, scale = values[0], values[1] if len(values) > 1 else 0
        return [("narrowing", table, f"in {table}.{column} that does not fit numeric({precision},{scale})",
                 f"SELECT count(*) FROM {table} WHERE abs(round({column}::numeric, {scale})) "
                 f">= 10::numeric ^ {precision - scale}")]
    return []


# --- counting ----------------------------------------------------------------------------------------------------
def _count(conn, item: Preflight, timeout_ms: int, sample_above: int, sample_rows: int) -> Preflight:
    import psycopg

    started = time.monotonic()
    rows = _estimated_rows(conn, item.table)
    query = item.query
    fraction = None
    if rows is not None and rows > sample_above and item.kind not in ("non-empty",):
        fraction = max(0.0001, min(100.0, 100.0 * sample_rows / rows))
        query = _sampled(query, item.table, fraction)
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            conn.execute(f"SET LOCAL lock_timeout = {int(min(timeout_ms, 2000))}")
            value = conn.execute(query).fetchone()[0]
        count = int(value or 0)
        if fraction is not None:
            item.sampled = True
            count = int(math.ceil(count * 100.0 / fraction)) if count else 0
        item.count = count
    except psycopg.errors.QueryCanceled:
        item.error = f"timed out after {timeout_ms} ms"
    except psycopg.errors.LockNotAvailable:
        item.error = "the table is locked by another session"
    except psycopg.Error as exc:
        item.error = " ".join(str(exc).split())[:200]
    item.seconds = time.monotonic() - started
    return item


def _estimated_rows(conn, table: str) -> int | None:
    try:
        row = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", (table,)).fetchone()
    except Exception:  # noqa: BLE001
        return None
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


def _sampled(query: str, table: str, percent: float) -> str:
    """The same count over a TABLESAMPLE of the (first) table named `table`."""
    for form in (f"FROM {table} AS c", f"FROM {table}"):
        if form in query:
            alias = " AS c" if form.endswith(" AS c") else ""
            return query.replace(form, f"FROM {table} TABLESAMPLE SYSTEM ({percent:.4f}){alias}", 1)
    return query
