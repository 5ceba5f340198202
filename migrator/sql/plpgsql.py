"""Read a `DO` block: the SQL its PL/pgSQL body would run, each piece with its line in the file.

The body is parsed by PostgreSQL's own PL/pgSQL parser (libpg_query through pglast, imported only when a DO
block is met). Every statement and every expression of the body becomes an `Inner` piece of SQL to classify
like a top-level statement:

- SQL statements (`CREATE ...`, `UPDATE ...`, `SELECT ... INTO v`, `CALL ...`) as written;
- expressions (IF / WHILE / EXIT conditions, assignments, RAISE and loop bounds) as `SELECT <expr>`, so a
  function call in a condition is judged like one in a top-level SELECT;
- `EXECUTE` of a string the body fixes: a literal, literals joined with `||`, `format()` with a literal format
  string. A name given at run time through `%I` or `quote_ident(v)` (a literal through `%L`, `quote_literal`)
  becomes a placeholder no other statement can match, so the statement's shape is still read;
- what cannot be read (SQL built from a variable, a construct this reader does not know, another language)
  is an `Inner` without SQL and a reason: the caller reports it as unclassified, never as safe.

Why libpg_query rather than a splitter on sqlglot's tokens: it is PostgreSQL's own grammar (labels, handlers,
CASE, cursors, `INTO` stripped from the SQL), and it is faster: a typical 14-line body parses in ~36 us, while
sqlglot only tokenizing the same body takes ~255 us (measured with pglast 8.8, sqlglot 30.30). Importing
pglast costs ~25 ms, paid only by a run that meets a DO block.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field

MAX_DEPTH = 4  # DO blocks inside EXECUTE inside DO blocks ...

# PL/pgSQL statement kinds read here; any other kind fails closed.
_KNOWN = frozenset(f"PLpgSQL_stmt_{k}" for k in (
    "block", "assign", "if", "case", "loop", "while", "fori", "fors", "forc", "foreach_a", "exit", "return",
    "raise", "assert", "execsql", "dynexecute", "dynfors", "getdiag", "open", "fetch", "close", "perform",
    "call", "commit", "rollback",
))
_EXECUTE = {"PLpgSQL_stmt_dynexecute": "query", "PLpgSQL_stmt_dynfors": "query", "PLpgSQL_stmt_open": "dynquery"}
_PLACEHOLDERS = itertools.count(1)  # run-time names are unique in the whole run: no two ever match


@dataclass
class Inner:
    """One piece of the body: SQL to classify, or (sql None) why it cannot be read."""

    line: int
    sql: str | None
    why: str | None = None
    commit: bool = False  # COMMIT / ROLLBACK inside the block: a transaction ends there


@dataclass
class DoBlock:
    line: int  # line of the body's first character in the file
    items: list[Inner] = field(default_factory=list)


class Unreadable(Exception):
    """Raised for a DO statement whose body cannot be read at all; `line` is in the file."""

    def __init__(self, why: str, line: int):
        super().__init__(why)
        self.why, self.line = why, line


def is_do(words: tuple[str, ...]) -> bool:
    return words[:1] == ("DO",)


def read_do(sql: str, line: int) -> DoBlock:
    """The pieces of the DO statement `sql`, which starts on `line` of its file. Raises Unreadable."""
    try:
        from pglast import ast, parser
    except ImportError as exc:  # a broken install must not make DO blocks look safe
        raise Unreadable("pglast (PostgreSQL's parser) is not installed", line) from exc
    try:
        raw = parser.parse_sql(sql)
    except parser.ParseError as exc:
        raise Unreadable(f"not a valid DO statement: {exc.args[0]}", line) from exc
    stmt = raw[0].stmt if len(raw) == 1 else None
    if not isinstance(stmt, ast.DoStmt):
        raise Unreadable("not a single DO statement", line)
    body = language = None
    location = 0
    for arg in stmt.args or ():
        if arg.defname == "as":
            body, location = arg.arg.sval, arg.location
        elif arg.defname == "language":
            language = arg.arg.sval
    body_line = line + sql.encode()[: max(location, 0)].count(b"\n")
    if body is None:
        raise Unreadable("DO statement without a body", line)
    if (language or "plpgsql").lower() != "plpgsql":
        raise Unreadable(f"a DO block in language {language} is not read", body_line)
    block = DoBlock(body_line)
    tag = "$migrator_do$"
    while tag in body:
        tag = tag[:-1] + "_$"
    wrapper = f"CREATE FUNCTION migrator_do() RETURNS void LANGUAGE plpgsql AS {tag}{body}{tag}"
    try:
        tree = json.loads(parser.parse_plpgsql_json(wrapper))
    except parser.ParseError as exc:
        raise Unreadable(f"PL/pgSQL body not understood: {exc.args[0]}", body_line + _error_line(exc, wrapper) - 1) \
            from exc
    except Exception as exc:  # parser bugs must not escape: the block stays unclassified
        raise Unreadable(f"PL/pgSQL parser failed ({type(exc).__name__})", body_line) from exc
    function = tree[0]["PLpgSQL_function"]
    reader = _Reader(block, body_line)
    for datum in function.get("datums") or ():  # DECLARE defaults and cursor queries
        reader.visit(datum, 1)
    reader.visit(function.get("action"), 1)
    block.items.sort(key=lambda item: item.line)  # the order they run in, near enough (a loop's query first)
    return block


def _error_line(exc, wrapper: str) -> int:
    """The line in the body of a parse error (1 when the parser does not say where)."""
    location = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
    return wrapper.encode()[:location].count(b"\n") + 1 if location > 0 else 1


class _Reader:
    def __init__(self, block: DoBlock, body_line: int):
        self.block, self.base = block, body_line - 1

    def add(self, lineno: int, sql: str | None, why: str | None = None, commit: bool = False) -> None:
        self.block.items.append(Inner(self.base + lineno, sql, why, commit))

    def visit(self, node, lineno: int) -> None:
        if isinstance(node, list):
            for item in node:
                self.visit(item, lineno)
            return
        if not isinstance(node, dict):
            return
        for kind, body in node.items():
            if not isinstance(body, dict):
                if isinstance(body, list):
                    self.visit(body, lineno)
                continue
            if not kind.startswith("PLpgSQL_"):
                self.visit(body, lineno)
                continue
            here = body.get("lineno") or lineno
            if kind == "PLpgSQL_expr":
                self.expression(body, here)
                continue
            if kind.startswith("PLpgSQL_stmt_") and kind not in _KNOWN:
                self.add(here, None, f"PL/pgSQL statement {kind[13:].upper()} is not read")
                continue
            if kind in ("PLpgSQL_stmt_commit", "PLpgSQL_stmt_rollback"):
                self.add(here, kind[13:].upper(), commit=True)
                continue
            skip = _EXECUTE.get(kind)
            if skip and skip in body:
                self.execute(body[skip], here)
            for key, value in body.items():
                if key != skip and isinstance(value, (dict, list)):
                    self.visit(value, here)

    def expression(self, expr: dict, lineno: int) -> None:
        query = expr.get("query") or ""
        mode = expr.get("parseMode", 0)
        if mode == 0:  # a whole SQL statement
            self.add(lineno, query)
        elif mode == 2:  # an expression
            self.add(lineno, f"SELECT {query}")
        elif mode in (3, 4, 5):  # `target := expression`
            _, sep, value = query.partition(":=")
            if not sep:
                _, sep, value = query.partition("=")
            self.add(lineno, f"SELECT {value}" if sep else None, None if sep else f"assignment not read: {query}")
        else:
            self.add(lineno, None, f"PL/pgSQL expression not read: {query}")

    def execute(self, node: dict, lineno: int) -> None:
        expr = node.get("PLpgSQL_expr") or {}
        query = expr.get("query") or ""
        try:
            sql = static_text(query)
        except _Dynamic as exc:
            self.add(lineno, None, f"EXECUTE of SQL built at run time ({exc}) cannot be read")
            return
        if sql is None:
            self.add(lineno, None, "EXECUTE of NULL")
            return
        self.add(lineno, sql)


# --- EXECUTE: the text of a string expression the body fixes ------------------------------------------------


class _Dynamic(Exception):
    """The expression's value is only known at run time; the message names the part (rendered when asked)."""

    def __init__(self, what: str | None = None, node=None, source: str = ""):
        super().__init__(what)
        self.what, self.node, self.source = what, node, source

    def __str__(self) -> str:
        if self.what is None:
            self.what = _snippet(self.node, self.source)
        return self.what


def static_text(expr: str) -> str | None:
    """The value of a PL/pgSQL string expression built from literals, `||`, `format()`, `quote_ident()`, ...;
    run-time names become unique quoted placeholders. Raises _Dynamic when the SQL itself is built at run time."""
    from pglast import ast, parser

    try:
        tree = parser.parse_sql(f"SELECT {expr}")
    except Exception as exc:
        raise _Dynamic(_short(expr)) from exc
    select = tree[0].stmt if len(tree) == 1 else None
    # one plain SELECT of one value (`'a' UNION SELECT 'b'` is a SELECT without a target list of its own)
    targets = select.targetList if isinstance(select, ast.SelectStmt) else None
    if not targets or len(targets) != 1:
        raise _Dynamic(_short(expr))
    return _value(targets[0].val, expr)


def _value(node, source: str) -> str | None:
    kind = type(node).__name__
    if kind == "A_Const":
        if node.isnull:
            return None
        val = node.val
        return str(getattr(val, "sval", None) if hasattr(val, "sval") else getattr(val, "ival", getattr(val, "fval", "")))
    if kind == "TypeCast":
        return _value(node.arg, source)
    if kind == "A_Expr" and _names(node.name) == ["||"]:
        left, right = _value(node.lexpr, source), _value(node.rexpr, source)
        return None if left is None or right is None else left + right
    if kind == "FuncCall":
        name = _names(node.funcname)[-1].lower()
        args = list(node.args or ())
        if name == "format" and args and not node.agg_star:
            fmt = _value(args[0], source)
            if fmt is None:
                return None
            return _format(fmt, [_arg(a, source) for a in args[1:]], source)
        if name in ("quote_ident", "quote_literal", "quote_nullable") and len(args) == 1:
            value = _arg(args[0], source)
            if name == "quote_ident":
                return _placeholder(value) if isinstance(value, _Runtime) else quote_ident(value or "")
            if isinstance(value, _Runtime):
                return _literal_placeholder(value)
            return "NULL" if value is None else quote_literal(value)
        if name == "concat":
            parts = [_value(a, source) for a in args]
            return "".join(p for p in parts if p is not None)
    raise _Dynamic(node=node, source=source)


@dataclass
class _Runtime:
    text: str  # the expression whose value is only known at run time


def _arg(node, source: str):
    try:
        return _value(node, source)
    except _Dynamic as exc:
        return _Runtime(str(exc) if exc.node is node else _snippet(node, source))


def _names(nodes) -> list[str]:
    return [getattr(n, "sval", "") for n in nodes or ()]


def _snippet(node, source: str) -> str:
    if type(node).__name__ == "ColumnRef":  # the usual case, `r.tablename`: no need for the printer
        names = [getattr(f, "sval", None) or "" for f in node.fields or ()]
        if all(names):
            return ".".join(names)
    try:
        from pglast.stream import RawStream

        return _short(RawStream()(node))
    except Exception:
        return _short(source)


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _placeholder(value: _Runtime) -> str:
    # a quoted name no real statement uses, unique so that context (a table created earlier) never matches it
    return quote_ident(f"{{{value.text}}}#{next(_PLACEHOLDERS)}")


def _literal_placeholder(value: _Runtime) -> str:
    return quote_literal(f"{{{value.text}}}")


_SPEC = re.compile(r"%(?:(\d+)\$)?([-]?)(\d*|\*)([sIL%])")


def _format(fmt: str, args: list, source: str) -> str:
    """PostgreSQL's format(): %s, %I, %L, %% and %n$ positions; widths are not read."""
    out, pos, nxt = [], 0, 0
    for m in _SPEC.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        position, flag, width, conv = m.groups()
        if conv == "%":
            out.append("%")
            continue
        if flag or width:
            raise _Dynamic(f"format width in {_short(fmt)}")
        index = int(position) - 1 if position else nxt
        nxt = index + 1
        if index >= len(args):
            raise _Dynamic(f"too few arguments for {_short(fmt)}")
        value = args[index]
        if conv == "I":
            if value is None:
                raise _Dynamic("format %I of NULL")
            out.append(_placeholder(value) if isinstance(value, _Runtime) else quote_ident(value))
        elif conv == "L":
            out.append(_literal_placeholder(value) if isinstance(value, _Runtime)
                       else "NULL" if value is None else quote_literal(value))
        else:
            if isinstance(value, _Runtime):
                raise _Dynamic(f"format %s of {value.text}")
            out.append(value or "")
    if "%" in fmt[pos:]:
        raise _Dynamic(f"format string not read: {_short(fmt)}")
    out.append(fmt[pos:])
    return "".join(out)


_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*\Z")


def quote_ident(name: str) -> str:
    return name if _PLAIN.match(name) else '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
