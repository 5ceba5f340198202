"""Token helpers shared by the object rules (CREATE/DROP/ALTER of non-table objects).

Not a rule module: the registry skips modules whose name starts with `_`.
"""

from __future__ import annotations

from migrator.sql.split import Statement
from migrator.sql.words import dotted_name

# CREATE modifiers that sit between CREATE and the object kind
_CREATE_MODIFIERS = {"OR", "REPLACE", "TEMP", "TEMPORARY", "GLOBAL", "LOCAL", "UNLOGGED", "RECURSIVE", "TRUSTED",
                     "PROCEDURAL", "DEFAULT", "CONSTRAINT", "UNIQUE"}
# object kinds made of two or three words
_MULTI_WORD_KINDS = {
    ("MATERIALIZED", "VIEW"), ("FOREIGN", "TABLE"), ("FOREIGN", "DATA", "WRAPPER"), ("EVENT", "TRIGGER"),
    ("ACCESS", "METHOD"), ("USER", "MAPPING"), ("OPERATOR", "CLASS"), ("OPERATOR", "FAMILY"),
    ("TEXT", "SEARCH", "CONFIGURATION"), ("TEXT", "SEARCH", "DICTIONARY"), ("TEXT", "SEARCH", "PARSER"),
    ("TEXT", "SEARCH", "TEMPLATE"), ("OWNED", "BY"),
}


def object_kind(words: tuple[str, ...], start: int) -> tuple[str, int]:
    """The object kind at words[start] ("MATERIALIZED VIEW", "FUNCTION", ...) and the index after it."""
    for size in (3, 2):
        if tuple(words[start : start + size]) in _MULTI_WORD_KINDS:
            return " ".join(words[start : start + size]), start + size
    return (words[start] if start < len(words) else ""), start + 1


def create_kind(words: tuple[str, ...]) -> tuple[str, int, set[str]]:
    """For CREATE [modifiers] KIND ..., return (KIND, index after it, modifiers seen)."""
    i, modifiers = 1, set()
    while i < len(words) and words[i] in _CREATE_MODIFIERS:
        modifiers.add(words[i])
        i += 1
    kind, after = object_kind(words, i)
    return kind, after, modifiers


def skip_if_exists(words: tuple[str, ...], i: int) -> int:
    if words[i : i + 2] == ("IF", "EXISTS"):
        return i + 2
    if words[i : i + 3] == ("IF", "NOT", "EXISTS"):
        return i + 3
    return i


def read_drop(stmt: Statement, kind: str) -> tuple[list[str], bool, bool] | None:
    """(names, cascade, concurrently) of `DROP <kind> [CONCURRENTLY] [IF EXISTS] [ONLY] name [, ...]
    [CASCADE | RESTRICT]`, from sqlglot's tree or from the tokens; None for any other statement."""
    from sqlglot import exp

    from migrator.rules._base import table_name

    node = stmt.node
    if isinstance(node, exp.Drop):
        if (node.args.get("kind") or "").upper() != kind:
            return None
        names = [name for t in node.args.get("tables") or [] if (name := table_name(t))]
        cascade, concurrently = bool(node.args.get("cascade")), bool(node.args.get("concurrently"))
    elif stmt.is_command and stmt.words[:2] == ("DROP", kind):
        words = stmt.words
        concurrently = words[2:3] == ("CONCURRENTLY",)
        i = skip_if_exists(words, 2 + concurrently)
        if words[i : i + 1] == ("ONLY",):
            i += 1
        names, end = name_list(words, i)
        if words[end:] not in ((), ("CASCADE",), ("RESTRICT",)):
            return None
        cascade = words[end:] == ("CASCADE",)
    else:
        return None
    names = [n for n in names if n]
    return (names, cascade, concurrently) if names else None


def skip_parens(words: tuple[str, ...], i: int) -> int:
    """If words[i] opens a parenthesis, the index after its match; else i."""
    if i >= len(words) or words[i] != "(":
        return i
    depth = 0
    for j in range(i, len(words)):
        if words[j] == "(":
            depth += 1
        elif words[j] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(words)


def name_list(words: tuple[str, ...], i: int) -> tuple[list[str], int]:
    """Comma-separated dotted names (each optionally followed by a parenthesized argument list)."""
    names = []
    while i < len(words):
        name, i = dotted_name(words, i)
        if name is None or name in (",", "(", ")"):
            break
        names.append(name)
        i = skip_parens(words, i)
        if i < len(words) and words[i] == ",":
            i += 1
            continue
        break
    return names, i


class IndexInfo:
    """What a CREATE INDEX statement builds: from the tree, or from tokens when sqlglot failed."""

    __slots__ = ("unique", "concurrently", "name", "table")

    def __init__(self, unique: bool, concurrently: bool, name: str | None, table: str | None):
        self.unique, self.concurrently, self.name, self.table = unique, concurrently, name, table


def index_info(stmt: Statement) -> IndexInfo | None:
    from sqlglot import exp

    from migrator.rules._base import table_name

    node = stmt.node
    if isinstance(node, exp.Create):
        if (node.args.get("kind") or "").upper() != "INDEX" or not isinstance(node.this, exp.Index):
            return None
        index = node.this
        table = table_name(index.args.get("table"))
        name = index.this.name if isinstance(index.this, exp.Identifier) else None
        if not table:
            return None
        return IndexInfo(bool(node.args.get("unique")), bool(node.args.get("concurrently")), name, table)
    if not stmt.is_command:
        return None
    words = stmt.words
    i = 1
    unique = words[i : i + 1] == ("UNIQUE",)
    i += unique
    if words[i : i + 1] != ("INDEX",):
        return None
    i += 1
    concurrently = words[i : i + 1] == ("CONCURRENTLY",)
    i += concurrently
    i = skip_if_exists(words, i)
    name = None
    if i < len(words) and words[i] != "ON":
        name, i = dotted_name(words, i)
    if words[i : i + 1] != ("ON",):
        return None
    i += 1
    if words[i : i + 1] == ("ONLY",):
        i += 1
    table, _ = dotted_name(words, i)
    if not table or table in ("(", "using"):
        return None
    return IndexInfo(unique, concurrently, name, table)


_FALSE = {"FALSE", "OFF", "0"}


def vacuum_full(stmt: Statement) -> tuple[bool, str | None] | None:
    """(FULL?, first table) of a VACUUM statement; `VACUUM (FULL FALSE)` is not FULL. None if unreadable."""
    from sqlglot.tokens import TokenType

    from migrator.errors import InputError
    from migrator.sql.split import tokenize

    tokens = stmt.tokens
    if len(tokens) == 2 and tokens[1].token_type == TokenType.STRING:
        # sqlglot's tokenizer keeps the rest of a VACUUM statement as one string: tokenize it
        try:
            tokens = tokens[:1] + tokenize(tokens[1].text)
        except InputError:
            return None
    words = tuple(t.text.upper() for t in tokens)
    full, i = False, 1
    if words[1:2] == ("(",):
        j = 2
        while j < len(words) and words[j] != ")":
            if words[j] == "FULL":
                full = words[j + 1:j + 2] not in {(w,) for w in _FALSE}
            j += 1
        i = j + 1
    else:
        while i < len(words) and words[i] in ("FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"):
            full = full or words[i] == "FULL"
            i += 1
    return full, (tokens[i].text if i < len(words) else None)


class PolicyInfo:
    """What a CREATE / ALTER POLICY statement says (from tokens: sqlglot cannot parse policies)."""

    __slots__ = ("name", "table", "restrictive", "command", "roles", "using", "rename")

    def __init__(self, name, table, restrictive=False, command="ALL", roles=None, using=None, rename=None):
        self.name, self.table, self.restrictive, self.command = name, table, restrictive, command
        self.roles, self.using, self.rename = roles, using, rename

    @property
    def admits_all(self) -> bool:
        """Permissive, for every command and role, USING (true): every row stays visible to every role."""
        return (not self.restrictive and self.command in ("ALL", "SELECT") and self.roles in (None, ("PUBLIC",))
                and self.using == ("TRUE",))


def read_policy(words: tuple[str, ...]) -> PolicyInfo | None:
    """`CREATE|ALTER POLICY name ON table [AS ...] [FOR cmd] [TO roles] [USING (...)] [WITH CHECK (...)]`,
    `ALTER POLICY name ON table RENAME TO new`, `DROP POLICY [IF EXISTS] name ON table`; None if unreadable."""
    if len(words) < 5 or words[1] != "POLICY":
        return None
    i = skip_if_exists(words, 2)
    name, i = dotted_name(words, i)
    if name is None or words[i:i + 1] != ("ON",):
        return None
    table, i = dotted_name(words, i + 1)
    if table is None:
        return None
    info = PolicyInfo(name, table)
    if words[0] == "DROP":
        return info if words[i:] in ((), ("CASCADE",), ("RESTRICT",)) else None
    if words[0] == "ALTER" and words[i:i + 2] == ("RENAME", "TO") and len(words) == i + 3:
        info.rename = words[i + 2].lower()
        return info
    while i < len(words):
        w = words[i]
        if w == "AS" and words[i + 1:i + 2] in (("PERMISSIVE",), ("RESTRICTIVE",)):
            info.restrictive = words[i + 1] == "RESTRICTIVE"
            i += 2
        elif w == "FOR" and i + 1 < len(words):
            info.command = words[i + 1]
            i += 2
        elif w == "TO":
            roles, i = [], i + 1
            while i < len(words) and words[i] not in ("USING", "WITH"):
                if words[i] != ",":
                    roles.append(words[i])
                i += 1
            info.roles = tuple(roles)
        elif w in ("USING", "WITH"):
            start = i + 1 + (w == "WITH" and words[i + 1:i + 2] == ("CHECK",))
            end = skip_parens(words, start)
            if end == start:
                return None
            if w == "USING":
                info.using = words[start + 1:end - 1]
            i = end
        else:
            return None
    return info
