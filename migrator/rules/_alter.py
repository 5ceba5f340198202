"""Shared reading of ALTER TABLE statements for the ALTER TABLE rules (not a rule module).

sqlglot types most ALTER TABLE actions, but it falls back to exp.Command for a
statement as soon as one action is unsupported, and it silently drops trailing
actions of some mixed statements (``ALTER COLUMN a SET DEFAULT 0, SET (...)``
comes back with one action). `alter_table(stmt)` therefore always splits the
statement's tokens at top-level commas and pairs each token slice with its
typed node:

* typed statement with as many actions as token slices: the tree's nodes;
* otherwise (exp.Command, parse error, action count mismatch): each slice is
  parsed again on its own (``ALTER TABLE <name> <slice>``, from the existing
  tokens, on first use) and keeps the typed node if that parse yields exactly
  one typed action.

So every action has its words, and a typed node when sqlglot understands it.
Action indexes are token-slice indexes, which is what the engine's coverage
check counts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.tokens import Token

from migrator.phases import Phase
from migrator.rules._base import Context, Rule, table_key, table_name
from migrator.sql.split import Statement, dialect
from migrator.sql.words import alter_target

_UNSET = object()
log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- actions


@dataclass(eq=False)
class Action:
    """One comma-separated action of an ALTER TABLE."""

    index: int
    words: tuple[str, ...]
    tokens: list[Token] = field(repr=False)
    _node: object = field(default=_UNSET, repr=False)
    _owner: "AlterTable | None" = field(default=None, repr=False)

    @property
    def node(self) -> exp.Expr | None:
        """The typed sqlglot node of this action, or None when sqlglot cannot type it."""
        if self._node is _UNSET:
            self._node = self._owner._reparse(self) if self._owner is not None else None
        return self._node  # type: ignore[return-value]

    @property
    def not_valid(self) -> bool:
        return self.words[-2:] == ("NOT", "VALID")

    def text(self, i: int) -> str:
        """Original spelling of word i (identifiers keep their case, quotes removed)."""
        return self.tokens[i].text if i < len(self.tokens) else ""


@dataclass(eq=False)
class AlterTable:
    stmt: Statement
    table: str | None
    actions: list[Action]
    prefix: int  # number of tokens before the first action

    @property
    def key(self) -> str | None:
        return table_key(self.table) if self.table else None

    def _reparse(self, action: Action) -> exp.Expr | None:
        if not action.tokens:
            return None
        tokens = self.stmt.tokens[: self.prefix] + action.tokens
        try:
            parsed = _parser().parse(tokens, self.stmt.sql)
        except Exception:  # ParseError, TokenError, sqlglot bugs: stay untyped
            return None
        node = parsed[0] if parsed else None
        if not isinstance(node, exp.Alter):
            return None
        actions = node.args.get("actions") or []
        return actions[0] if len(actions) == 1 else None


_PARSER = None


def _parser():
    global _PARSER
    if _PARSER is None:
        _PARSER = dialect().parser(error_level=ErrorLevel.IMMEDIATE)
    return _PARSER


def alter_table(stmt: Statement) -> AlterTable | None:
    """The actions of an ALTER TABLE statement (typed or not); None for anything else."""
    cached = getattr(stmt, "_alter_table", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    result = _read_alter_table(stmt)
    stmt._alter_table = result  # type: ignore[attr-defined]
    return result


def _read_alter_table(stmt: Statement) -> AlterTable | None:
    node = stmt.node
    words = stmt.words
    if words[:2] != ("ALTER", "TABLE") or words[2:5] == ("ALL", "IN", "TABLESPACE"):
        return None
    typed = node if isinstance(node, exp.Alter) else None
    if typed is not None and (typed.args.get("kind") or "").upper() != "TABLE":
        return None
    if typed is None and not stmt.is_command:
        return None
    name, after = alter_target(words)
    if name is None:
        return None
    ranges = _split_ranges(words, after)
    nodes = (typed.args.get("actions") or []) if typed is not None else []
    table = (table_name(typed.this) if typed is not None else None) or name
    alter = AlterTable(stmt=stmt, table=table, actions=[], prefix=after)
    exact = typed is not None and len(nodes) == len(ranges)
    for i, (start, end) in enumerate(ranges):
        action = Action(index=i, words=words[start:end], tokens=stmt.tokens[start:end])
        if exact:
            action._node = nodes[i]
        else:
            action._owner = alter
        alter.actions.append(action)
    return alter


def _split_ranges(words: tuple[str, ...], start: int) -> list[tuple[int, int]]:
    """(start, end) word indexes of the comma-separated actions, commas inside parentheses and brackets kept."""
    ranges, depth, begin = [], 0, start
    for i in range(start, len(words)):
        w = words[i]
        if w == "(" or w == "[":  # ARRAY['a', 'b'] holds commas too
            depth += 1
        elif w == ")" or w == "]":
            depth -= 1
        elif w == "," and depth == 0:
            ranges.append((begin, i))
            begin = i + 1
    ranges.append((begin, len(words)))
    return ranges


class AlterTableRule(Rule):
    """Base for rules that read ALTER TABLE actions, typed or from tokens; subclasses implement `check_alter`."""

    nodes: tuple[type[exp.Expr], ...] = (exp.Alter,)
    commands: tuple[tuple[str, ...], ...] = (("ALTER", "TABLE"),)

    def check(self, stmt, ctx):
        alter = alter_table(stmt)
        if alter is None:
            return ()
        return never_raise(self, self.check_alter(alter, ctx))

    def check_alter(self, alter: "AlterTable", ctx: Context):
        raise NotImplementedError


def never_raise(rule: Rule, hits) -> list:
    """The hits; a rule that meets an unexpected tree shape stops there (its unclaimed actions stay U000). A list,
    not a generator: this runs for every ALTER TABLE rule on every ALTER TABLE statement."""
    found: list = []
    try:
        for hit in hits:
            found.append(hit)
    except RecursionError:
        raise
    except Exception:
        log.debug("rule %s failed on an unexpected statement shape", rule.id, exc_info=True)
    return found


def new_table(ctx: Context, table: str | None, **overrides) -> dict:
    """Hit overrides, with those for a table created earlier in the same migration (empty, unknown to blue:
    phase expand, no finding) taking precedence."""
    if ctx.is_new_table(table):
        overrides.update(phase=Phase.EXPAND, severity=None)
    return overrides


def ident(node: exp.Expr | None) -> str:
    """Name of a column / identifier node."""
    if node is None:
        return "?"
    return node.name or node.sql()


# --------------------------------------------------------------------------- ADD COLUMN


SERIAL_TYPES = {exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL, exp.DataType.Type.SMALLSERIAL}
SERIAL_NAMES = {"serial", "serial2", "serial4", "serial8", "bigserial", "smallserial"}
INLINE = {
    exp.PrimaryKeyColumnConstraint: "PRIMARY KEY",
    exp.UniqueColumnConstraint: "UNIQUE",
    exp.Reference: "REFERENCES",
    exp.CheckColumnConstraint: "CHECK",
}


@dataclass
class ColumnSpec:
    """What an ADD COLUMN definition asks for."""

    name: str
    dtype: exp.DataType | None
    not_null: bool = False  # NOT NULL or PRIMARY KEY
    explicit_not_null: bool = False
    default: exp.Expr | None = None  # None when absent or NULL
    volatile: str | None = None  # the volatile (or unknown) call in the default
    serial: bool = False
    identity: bool = False
    generated: bool = False  # GENERATED ALWAYS AS (...) STORED
    inline: list[str] = field(default_factory=list)  # inline constraint kinds
    references: list[str] = field(default_factory=list)  # referenced tables
    understood: bool = True

    @property
    def type_label(self) -> str:
        return type_label(self.dtype)

    @property
    def user_type(self) -> bool:
        return self.dtype is not None and self.dtype.this == exp.DataType.Type.USERDEFINED and not self.serial


def add_column(action: Action) -> ColumnSpec | None:
    """The spec of an ADD COLUMN action, or None when the action is something else."""
    if action.words[:1] != ("ADD",):
        return None
    node = action.node
    if not isinstance(node, exp.ColumnDef):
        return None
    cached = getattr(action, "_spec", None)
    if cached is None:
        cached = column_spec(node)
        action._spec = cached  # type: ignore[attr-defined]
    return cached


def column_spec(col: exp.ColumnDef) -> ColumnSpec:
    dtype = col.args.get("kind")
    spec = ColumnSpec(name=col.name, dtype=dtype if isinstance(dtype, exp.DataType) else None)
    if spec.dtype is None or any(col.args.get(k) for k in ("position", "default", "output")):
        spec.understood = False
    elif spec.dtype.this in SERIAL_TYPES or _user_type_name(spec.dtype) in SERIAL_NAMES:
        spec.serial = True
    saw_null = saw_default = False
    for constraint in col.args.get("constraints") or []:
        kind = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else None
        if isinstance(kind, exp.NotNullColumnConstraint):
            if kind.args.get("allow_null"):
                saw_null = True
            else:
                spec.not_null = spec.explicit_not_null = True
        elif isinstance(kind, exp.DefaultColumnConstraint):
            if saw_default:
                spec.understood = False
            saw_default = True
            spec.default = _strip_null(kind.this)
        elif isinstance(kind, exp.CollateColumnConstraint):
            pass
        elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
            if kind.args.get("expression") is not None:  # GENERATED ALWAYS AS (...) without STORED
                spec.understood = False
            spec.identity = True
        elif isinstance(kind, exp.ComputedColumnConstraint):
            spec.generated = True
        elif kind is not None and type(kind) in INLINE:
            spec.inline.append(INLINE[type(kind)])
            if isinstance(kind, exp.PrimaryKeyColumnConstraint):
                spec.not_null = True
            if isinstance(kind, exp.Reference):
                spec.references.append(table_name(kind.this) or "?")
        else:
            spec.understood = False
    if saw_null and spec.not_null:
        spec.understood = False  # NULL NOT NULL: PostgreSQL rejects it
    if saw_default and (spec.identity or spec.generated or spec.serial):
        spec.understood = False  # PostgreSQL rejects a default on these
    if spec.default is not None:
        spec.volatile = volatile_call(spec.default)
    return spec


def _strip_null(node: exp.Expr | None) -> exp.Expr | None:
    inner = node
    while isinstance(inner, (exp.Paren, exp.Cast)):
        inner = inner.this
    return None if isinstance(inner, exp.Null) else node


def _user_type_name(dtype: exp.DataType) -> str | None:
    if dtype.this != exp.DataType.Type.USERDEFINED:
        return None
    kind = dtype.args.get("kind")
    if isinstance(kind, exp.Dot):
        kind = kind.expression
    return kind.name.lower() if kind is not None else None


_TYPE_NAMES = {"DECIMAL": "numeric", "DOUBLE": "double precision", "FLOAT": "real", "INT": "integer",
               "BPCHAR": "bpchar", "TIMESTAMPTZ": "timestamptz", "TIMESTAMP": "timestamp"}


def type_label(dtype: exp.DataType | None) -> str:
    """A readable PostgreSQL spelling of a type, built without running sqlglot's generator."""
    if not isinstance(dtype, exp.DataType):
        return "?"
    t = dtype.this
    if t == exp.DataType.Type.USERDEFINED:
        kind = dtype.args.get("kind")
        if isinstance(kind, exp.Dot):
            return ".".join(p.name for p in kind.flatten()) or "?"
        return kind.name if kind is not None else "?"
    if t == exp.DataType.Type.ARRAY and dtype.expressions:
        return type_label(dtype.expressions[0]) + "[]"
    name = _TYPE_NAMES.get(t.name, t.name.lower())
    params = [p.this.name for p in dtype.expressions if isinstance(p, exp.DataTypeParam) and p.this is not None]
    return f"{name}({', '.join(params)})" if params else name


def is_json(dtype: exp.DataType | None) -> bool:
    """json (not jsonb), also as an array element type."""
    while isinstance(dtype, exp.DataType) and dtype.this == exp.DataType.Type.ARRAY and dtype.expressions:
        dtype = dtype.expressions[0]
    return isinstance(dtype, exp.DataType) and dtype.this == exp.DataType.Type.JSON


# --------------------------------------------------------------------------- volatility


@lru_cache(maxsize=1)
def nonvolatile_functions() -> frozenset[str]:
    """pg_catalog function names whose overloads are all IMMUTABLE or STABLE (tools/gen_volatility.py)."""
    text = resources.files("migrator").joinpath("data/nonvolatile_functions.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


# SQL value keywords: STABLE, evaluated once for the default (CURRENT_TIMESTAMP is now()).
_KEYWORD_VALUES = (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime, exp.CurrentUser, exp.SessionUser,
                   exp.Localtimestamp, exp.Localtime, exp.CurrentSchema)
_KEYWORD_NAMES = {"current_timestamp", "current_date", "current_time", "localtimestamp", "localtime", "current_user",
                  "session_user", "current_role", "user", "current_catalog", "current_schema"}
# Constructs that are not pg_proc functions; their arguments are checked on their own.
_CONSTRUCTS = (exp.Cast, exp.Case, exp.If, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least, exp.Array,
               exp.Extract, exp.AtTimeZone, exp.Interval)
_CONSTRUCT_NAMES = {"coalesce", "greatest", "least", "nullif", "trim", "cast", "extract", "overlay", "position",
                    "substring", "array"}
# Leaves and operators without a function call of their own.
_SAFE = (exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.DataType, exp.DataTypeParam, exp.Identifier, exp.Var,
         exp.Neg, exp.Not, exp.Tuple, exp.Between, exp.In, exp.BitwiseNot)
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*[(]")


def is_volatile(node: exp.Expr) -> bool:
    """True when evaluating the expression may call a VOLATILE function (unknown functions count as volatile)."""
    return volatile_call(node) is not None


def volatile_call(node: exp.Expr) -> str | None:
    """Name of the first volatile (or unknown) call in the expression, or None when it has none."""
    try:
        return _volatile(node)
    except Exception:  # unexpected tree shapes: fail closed
        return "?"


def _volatile(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Dot):
        schema, call = node.this, node.expression
        if isinstance(schema, (exp.Identifier, exp.Var)) and schema.name.lower() == "pg_catalog" \
                and isinstance(call, exp.Func):
            return _volatile(call)
        return node.sql(dialect="postgres")  # schema-qualified user function, or a field reference
    if isinstance(node, exp.Column):
        return None if not node.table and node.name.lower() in _KEYWORD_NAMES else (node.name or "?")
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name not in nonvolatile_functions():
            return name + "()"
    elif isinstance(node, (_KEYWORD_VALUES, _CONSTRUCTS, exp.Binary)):
        pass  # value keywords, constructs, operators (some are typed as functions, e.g. Collate, Pow)
    elif isinstance(node, exp.Func):
        function = function_name(node)
        if function is None or (function not in nonvolatile_functions() and function not in _CONSTRUCT_NAMES):
            return (function or type(node).__name__) + "()"
    elif not isinstance(node, _SAFE):
        return type(node).__name__
    for child in node.iter_expressions():
        found = _volatile(child)
        if found is not None:
            return found
    return None


_FUNCTION_NAMES: dict[type, str | None] = {}


def function_name(node: exp.Func) -> str | None:
    """The PostgreSQL function a typed sqlglot function node stands for (as the postgres dialect writes it)."""
    cls = type(node)
    if cls not in _FUNCTION_NAMES:
        try:
            sql = node.sql(dialect="postgres")
        except Exception:
            return None
        m = _CALL.match(sql)
        _FUNCTION_NAMES[cls] = m.group(1).lower() if m else None
    return _FUNCTION_NAMES[cls]


# --------------------------------------------------------------------------- ALTER COLUMN TYPE


def _type_key(dtype: exp.DataType | None) -> tuple[str, tuple[int, ...]] | None:
    """(name, integer parameters) of a scalar type; None when not comparable."""
    if not isinstance(dtype, exp.DataType):
        return None
    t = exp.DataType.Type
    names = {t.VARCHAR: "varchar", t.TEXT: "text", t.DECIMAL: "numeric", t.TIMESTAMP: "timestamp",
             t.TIMESTAMPTZ: "timestamptz", t.CHAR: "bpchar", t.BPCHAR: "bpchar", t.INET: "inet"}
    name = names.get(dtype.this)
    if name is None and _user_type_name(dtype) == "cidr" and not isinstance(dtype.args.get("kind"), exp.Dot):
        name = "cidr"
    if name is None:  # any other type: comparable for identity only
        return type_label(dtype), ()
    params = []
    for p in dtype.expressions:
        lit = p.this if isinstance(p, exp.DataTypeParam) else None
        if not (isinstance(lit, exp.Literal) and not lit.is_string and lit.name.isdigit()):
            return None
        params.append(int(lit.name))
    return name, tuple(params)


def type_change(old: exp.DataType | None, new: exp.DataType | None, postgres_version: int) -> str | None:
    """How PostgreSQL changes old to new: "same" / "binary" (no rewrite), "utc" (no rewrite only with
    TimeZone=UTC, PostgreSQL 12+), or None (rewrite, or unknown)."""
    ko, kn = _type_key(old), _type_key(new)
    if ko is None or kn is None:
        return None
    if ko == kn:
        return "same"
    (on, op), (nn, np) = ko, kn
    if on == "varchar" and nn == "varchar":
        return "binary" if not np or (op and np[0] >= op[0]) else None
    if on == "varchar" and nn == "text":
        return "binary"
    if on == "text" and nn == "varchar" and not np:
        return "binary"
    if on == "numeric" and nn == "numeric":
        if not np:
            return "binary"
        if not op:
            return None
        old_scale = op[1] if len(op) > 1 else 0
        new_scale = np[1] if len(np) > 1 else 0
        return "binary" if np[0] >= op[0] and new_scale == old_scale else None
    if on == "cidr" and nn == "inet":
        return "binary"
    if on in ("timestamp", "timestamptz") and nn in ("timestamp", "timestamptz"):
        precision_ok = not np or (op and np[0] >= op[0])
        if not precision_ok:
            return None
        if on == nn:
            return "binary"
        return "utc" if postgres_version >= 12 else None
    return None


_INTEGERS = {"smallint": 2, "integer": 4, "bigint": 8}
_STRINGS = ("varchar", "text", "bpchar")


def narrowing(old: exp.DataType | None, new: exp.DataType | None) -> str | None:
    """Which existing values (and which of blue's writes) the new type cannot hold when old -> new narrows;
    None when it does not narrow or the old type is unknown."""
    ko, kn = _type_key(old), _type_key(new)
    if ko is None or kn is None or ko == kn:
        return None
    (on, op), (nn, np) = ko, kn
    if nn in ("varchar", "bpchar") and np and on in _STRINGS:
        if not op or on == "text" or op[0] > np[0]:
            return f"values longer than {np[0]} characters"
        return None
    if nn == "numeric" and np:
        digits, scale = np[0] - (np[1] if len(np) > 1 else 0), np[1] if len(np) > 1 else 0
        if on in _INTEGERS:
            limit = {2: 5, 4: 10, 8: 19}[_INTEGERS[on]]
            return f"values of more than {digits} integer digits" if digits < limit else None
        if on != "numeric":
            return None
        if not op:
            return f"values of more than {digits} integer digits or {scale} decimal places (rounded)"
        old_scale = op[1] if len(op) > 1 else 0
        parts = []
        if digits < op[0] - old_scale:
            parts.append(f"values of more than {digits} integer digits")
        if scale < old_scale:
            parts.append(f"decimal places beyond {scale} (rounded away)")
        return " and ".join(parts) or None
    if nn in _INTEGERS and on in _INTEGERS and _INTEGERS[nn] < _INTEGERS[on]:
        return f"values outside the {nn} range"
    if nn in _INTEGERS and on == "numeric":
        return f"fractions (rounded) and values outside the {nn} range"
    if on == "timestamptz" and nn == "timestamp":
        return "the time zone: values are stored as local time of the session's TimeZone, offsets lost"
    if on == nn and on in ("timestamp", "timestamptz") and np and (not op or np[0] < op[0]):
        return f"fractional seconds beyond {np[0]} digits (rounded)"
    if on == "double precision" and nn == "real":
        return "digits beyond real's precision and values outside its range"
    return None


# --------------------------------------------------------------------------- ALTER COLUMN


def alter_column(action: Action) -> exp.AlterColumn | None:
    """The typed ALTER [COLUMN] action, or None."""
    if action.words[:1] != ("ALTER",):
        return None
    node = action.node
    return node if isinstance(node, exp.AlterColumn) else None


def column_form(node: exp.AlterColumn) -> str | None:
    """Which ALTER COLUMN form a typed node is: TYPE, SET NOT NULL, DROP NOT NULL, SET DEFAULT, DROP DEFAULT."""
    args = node.args
    extra = [k for k in ("comment", "visible", "rename_to") if args.get(k)]
    if extra:
        return None
    if args.get("dtype") is not None:
        return "TYPE" if args.get("default") is None and not args.get("drop") and args.get("allow_null") is None \
            else None
    if args.get("default") is not None:
        if args.get("drop") or args.get("allow_null") is not None:
            return None
        return "DROP DEFAULT" if _strip_null(args["default"]) is None else "SET DEFAULT"
    if args.get("drop"):
        if args.get("allow_null") is True:
            return "DROP NOT NULL"
        return "DROP DEFAULT" if args.get("allow_null") is None else None
    if args.get("allow_null") is False:
        return "SET NOT NULL"
    return None


def column_key(alter: AlterTable, node: exp.Expr) -> tuple[str, str]:
    return (alter.key or "", node.name.lower())


# --------------------------------------------------------------------------- ADD CONSTRAINT

_CONSTRAINT_CLASSES = {
    "CHECK": exp.CheckColumnConstraint,
    "FOREIGN KEY": exp.ForeignKey,
    "UNIQUE": exp.UniqueColumnConstraint,
    "PRIMARY KEY": exp.PrimaryKey,
    "EXCLUDE": exp.ExcludeColumnConstraint,
}
_DEFERRAL = {"DEFERRABLE", "NOT", "INITIALLY", "DEFERRED", "IMMEDIATE"}
_CHECK_TAILS = {(), ("NO", "INHERIT"), ("NOT", "VALID"), ("NO", "INHERIT", "NOT", "VALID")}


@dataclass
class ConstraintSpec:
    """What an ALTER TABLE ... ADD [CONSTRAINT name] <constraint> action adds."""

    kind: str  # CHECK, FOREIGN KEY, UNIQUE, PRIMARY KEY, EXCLUDE
    name: str | None
    not_valid: bool
    using_index: str | None = None
    node: exp.Expr | None = None  # the typed constraint (CheckColumnConstraint, ForeignKey, ...)
    references: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} constraint {self.name}" if self.name else f"{self.kind} constraint"


def add_constraint(action: Action) -> ConstraintSpec | None:
    """The constraint an ADD action adds, when migrator fully understands it; None otherwise."""
    cached = getattr(action, "_constraint", _UNSET)
    if cached is _UNSET:
        try:
            cached = _read_constraint(action)
        except Exception:  # unexpected shapes stay unclassified
            cached = None
        action._constraint = cached  # type: ignore[attr-defined]
    return cached  # type: ignore[return-value]


def _read_constraint(action: Action) -> ConstraintSpec | None:
    words = action.words
    if words[:1] != ("ADD",):
        return None
    i, name = 1, None
    if words[1:2] == ("CONSTRAINT",):
        if len(words) < 4:
            return None
        name, i = action.text(2), 3
    rest = words[i:]
    for kind in _CONSTRAINT_CLASSES:
        # sqlglot tokenizes FOREIGN KEY and PRIMARY KEY as one token
        if rest[:1] == (kind,):
            after = i + 1
            break
        if " " in kind and rest[:2] == tuple(kind.split()):
            after = i + 2
            break
    else:
        return None
    spec = ConstraintSpec(kind=kind, name=name, not_valid=action.not_valid)
    if kind in ("UNIQUE", "PRIMARY KEY") and words[after:after + 2] == ("USING", "INDEX"):
        if len(words) < after + 3 or not set(words[after + 3:]) <= _DEFERRAL:
            return None
        spec.using_index = action.text(after + 2)
        return spec
    node = action.node
    if isinstance(node, exp.AddConstraint) and len(node.expressions) == 1:
        inner = node.expressions[0]
        if isinstance(inner, exp.Constraint):
            if len(inner.expressions) != 1:
                return None
            inner = inner.expressions[0]
        if type(inner) is not _CONSTRAINT_CLASSES[kind]:
            return None
        if isinstance(inner, exp.CheckColumnConstraint) and words[-2:] == ("NOT", "ENFORCED"):
            return None
        spec.node = inner
        if isinstance(inner, exp.ForeignKey):
            ref = inner.args.get("reference")
            spec.references = table_name(ref.this) if ref is not None else None
        return spec
    if kind == "CHECK" and words[after:after + 1] == ("(",):
        end = _close_paren(words, after)
        if end is not None and tuple(words[end + 1:]) in _CHECK_TAILS:
            return spec
    return None


def _close_paren(words: tuple[str, ...], start: int) -> int | None:
    depth = 0
    for j in range(start, len(words)):
        if words[j] == "(":
            depth += 1
        elif words[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return None
