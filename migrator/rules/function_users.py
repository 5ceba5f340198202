"""Which triggers and views call which functions, so that replacing a function can name what it changes (E122).

Recorded in the migration's Context from CREATE TRIGGER ... EXECUTE FUNCTION f() and from the function calls in
a CREATE VIEW's query; removed by DROP TRIGGER / DROP VIEW. SchemaKnowledge carries them to later migrations of
the run, and `migrator.classify.catalog` seeds them from a live database. Functions are keyed by unqualified, folded
name (overloads are not told apart: naming a dependant too many is the safe side).
"""

from __future__ import annotations

from migrator.rules import Context
from migrator.sql.split import Statement
from migrator.sql.words import dotted_name, find

_VIEW_MODIFIERS = {"OR", "REPLACE", "TEMP", "TEMPORARY", "RECURSIVE", "MATERIALIZED"}


def fold(name: str) -> str:
    """A function or relation name as PostgreSQL folds it, schema dropped."""
    last = name.rsplit(".", 1)[-1]
    return last[1:-1].replace('""', '"') if last.startswith('"') else last.lower()


def observe_function_users(ctx: Context, stmt: Statement) -> None:
    words = stmt.words
    if len(words) < 3 or words[0] not in ("CREATE", "DROP"):
        return
    if words[0] == "DROP":
        if words[1] == "TRIGGER":
            i = 2 + 2 * (words[2:4] == ("IF", "EXISTS"))
            name, after = dotted_name(words, i)
            on = find(words, "ON", start=after)
            table = dotted_name(words, on + 1)[0] if on >= 0 else None
            if name and table:
                _forget(ctx, f"trigger {fold(name)} on {fold(table)}")
        elif words[1] == "VIEW" or words[1:3] == ("MATERIALIZED", "VIEW"):
            i = 2 + (words[1] == "MATERIALIZED")
            i += 2 * (words[i:i + 2] == ("IF", "EXISTS"))
            while i < len(words):
                name, i = dotted_name(words, i)
                if name is None or name in (",", "cascade", "restrict"):
                    break
                _forget(ctx, f"view {fold(name)}")
                if words[i:i + 1] != (",",):
                    break
                i += 1
        return
    i = 1
    while i < len(words) and words[i] in _VIEW_MODIFIERS:
        i += 1
    if words[i:i + 1] == ("CONSTRAINT",):
        i += 1
    if words[i:i + 1] == ("TRIGGER",):
        name, after = dotted_name(words, i + 1)
        on = find(words, "ON", start=after)
        table = dotted_name(words, on + 1)[0] if on >= 0 else None
        execute = max(find(words, "EXECUTE", "FUNCTION"), find(words, "EXECUTE", "PROCEDURE"))
        function = dotted_name(words, execute + 2)[0] if execute >= 0 else None
        if name and table and function:
            label = f"trigger {fold(name)} on {fold(table)}"
            _forget(ctx, label)  # CREATE OR REPLACE TRIGGER may point it elsewhere
            if not ctx.is_new_table(table):
                ctx.function_users.setdefault(fold(function), set()).add(label)
    elif words[i:i + 1] == ("VIEW",):
        name, after = dotted_name(words, i + 1)
        if not name:
            return
        label = f"view {fold(name)}"
        _forget(ctx, label)
        start = find(words, "AS", start=after)
        for j in range(max(start, after), len(words) - 1):
            if words[j + 1] == "(" and words[j] not in ("(", ",", ".") and words[j][:1] not in ("'", "$"):
                ctx.function_users.setdefault(fold(stmt.tokens[j].text if words[j].startswith('"') else words[j]),
                                              set()).add(label)


def _forget(ctx: Context, label: str) -> None:
    for users in ctx.function_users.values():
        users.discard(label)
