"""Which columns BEFORE INSERT triggers keep filled, and when such a trigger goes away (for rule P509).

A dual-write trigger (`NEW.name := COALESCE(NEW.name, NEW.full_name)`) is what lets green insert rows without
the old NOT NULL column. Once it is dropped (or disabled, or its function dropped with CASCADE) and that drop
has committed, green's inserts fail until the column is dropped or made nullable. This module records, in the
migration's Context, the trigger functions and triggers it sees, the transaction each drop happened in, and
the columns' NOT NULL / DEFAULT facts it needs; SchemaKnowledge carries them to later migrations of the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrator.rules import Context, table_key
from migrator.sql.split import Statement
from migrator.sql.words import alter_target, command_actions, dotted_name, find, starts_with

# `NEW.col := ...` anywhere; `NEW.col = ...` only where a PL/pgSQL statement starts (elsewhere `=` compares)
_ASSIGN = re.compile(r'\bNEW\s*\.\s*("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*(:=|=(?!=))', re.IGNORECASE)
_STATEMENT_START = re.compile(r"(?:^|;|\b(?:THEN|ELSE|BEGIN|LOOP))\s*$", re.IGNORECASE)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class DroppedFill:
    """A trigger that kept (table, column) filled, gone in transaction `transaction`."""

    trigger: str
    transaction: tuple[int, int]  # (migration number in the run, transaction number in the migration)
    nullability_known: bool  # the column is known NOT NULL (else: not known either way)


def transaction(ctx: Context) -> tuple[int, int]:
    """The transaction the current statement runs in."""
    return ctx.migration_number, ctx.transaction_number


def assigned_columns(body: str) -> frozenset[str]:
    """The columns of NEW a PL/pgSQL trigger body assigns."""
    if "--" in body or "/*" in body:
        body = _COMMENTS.sub(" ", body)
    found = set()
    for m in _ASSIGN.finditer(body):
        if m.group(2) == ":=" or _STATEMENT_START.search(body, max(0, m.start() - 200), m.start()):
            found.add(_ident(m.group(1)))
    return frozenset(found)


def _ident(name: str) -> str:
    # folded like the rest of the rules' view of names (words are upper-cased, table keys lower-cased)
    return (name[1:-1].replace('""', '"') if name.startswith('"') else name).lower()


def _unquote(word: str) -> str:
    """A dotted name from the words (upper-cased or quoted) as PostgreSQL folds it, schema dropped."""
    return word.rsplit(".", 1)[-1].strip('"').lower()


_ALTER_WORDS = frozenset(("DROP", "DEFAULT", "DISABLE"))  # an ALTER TABLE without any of them changes nothing here


def observe_fills(ctx: Context, stmt: Statement) -> None:
    words = stmt.words
    head = words[0] if words else ""
    if head not in ("CREATE", "DROP", "ALTER"):  # most statements: nothing to do, cheaply
        return
    if head == "ALTER" and _ALTER_WORDS.isdisjoint(words):
        return
    if head == "CREATE" and not {"FUNCTION", "PROCEDURE", "TRIGGER"}.intersection(words[1:5]):
        return
    if starts_with(words, "CREATE"):
        _create(ctx, words)
    elif starts_with(words, "DROP", "TRIGGER"):
        i = 2 + 2 * (words[2:4] == ("IF", "EXISTS"))
        name, after = dotted_name(words, i)
        on = find(words, "ON", start=after)
        table = dotted_name(words, on + 1)[0] if on >= 0 else None
        if name and table:
            _gone(ctx, table_key(table), _unquote(name))
    elif starts_with(words, "DROP", "FUNCTION") or starts_with(words, "DROP", "PROCEDURE"):
        if words[-1:] == ("CASCADE",):  # its triggers go with it
            i = 2 + 2 * (words[2:4] == ("IF", "EXISTS"))
            name = _unquote(dotted_name(words, i)[0] or "")
            for (table, trigger), function in list(ctx.fill_triggers.items()):
                if function == name:
                    _gone(ctx, table, trigger)
    elif starts_with(words, "ALTER", "TABLE"):
        table, _ = alter_target(words)
        if table:
            for action in command_actions(stmt):
                _alter_action(ctx, table_key(table), action)


def _create(ctx: Context, words: tuple[str, ...]) -> None:
    i = 1
    if words[1:3] == ("OR", "REPLACE"):
        i = 3
    if words[i:i + 1] == ("CONSTRAINT",):
        i += 1
    kind = words[i] if i < len(words) else ""
    if kind in ("FUNCTION", "PROCEDURE"):
        name = dotted_name(words, i + 1)[0]
        body = next((w[1:-1] for w in words[i + 1:] if w.startswith("'")), None)
        if name:
            ctx.fill_functions[_unquote(name)] = assigned_columns(body) if body else frozenset()
    elif kind == "TRIGGER":
        name = dotted_name(words, i + 1)[0]
        on = find(words, "ON", start=i + 1)
        table = dotted_name(words, on + 1)[0] if on >= 0 else None
        execute = max(find(words, "EXECUTE", "FUNCTION"), find(words, "EXECUTE", "PROCEDURE"))
        if not (name and table):
            return
        key = (table_key(table), _unquote(name))
        events = words[i + 2:on]
        if execute >= 0 and events[:1] == ("BEFORE",) and "INSERT" in events:
            ctx.fill_triggers[key] = _unquote(dotted_name(words, execute + 2)[0] or "")
        else:
            ctx.fill_triggers.pop(key, None)  # replaced by one that fills nothing for inserts
    elif kind == "TABLE":
        pass  # NOT NULL and DEFAULT of new columns: see observe() (not_null_columns) and _defaults_of_create


def _gone(ctx: Context, table: str, trigger: str) -> None:
    """The trigger stops filling its columns: remember, per NOT NULL (or unknown) column, in which transaction."""
    function = ctx.fill_triggers.pop((table, trigger), None)
    if function is None:
        return
    for column in ctx.fill_functions.get(function, ()):
        pair = (table, column)
        if pair in ctx.relaxed_columns or pair in ctx.column_defaults:
            continue
        known_not_null = pair in ctx.not_null_columns
        if not known_not_null and pair in ctx.column_types:
            continue  # created nullable in this run: inserts without it still work
        ctx.dropped_fills.setdefault(pair, DroppedFill(trigger, transaction(ctx), known_not_null))


def _alter_action(ctx: Context, table: str, action: tuple[str, ...]) -> None:
    if action[:1] == ("ALTER",):
        i = 2 if action[1:2] == ("COLUMN",) else 1
        if i >= len(action):
            return
        pair = (table, _unquote(action[i]))
        rest = action[i + 1:]
        if rest == ("DROP", "NOT", "NULL"):
            ctx.relaxed_columns.add(pair)
            ctx.dropped_fills.pop(pair, None)
        elif rest[:2] == ("SET", "NOT"):
            ctx.relaxed_columns.discard(pair)
        elif rest[:2] == ("SET", "DEFAULT"):
            ctx.column_defaults.add(pair)
        elif rest[:2] == ("DROP", "DEFAULT"):
            ctx.column_defaults.discard(pair)
    elif action[:1] == ("DROP",) and action[1:2] != ("CONSTRAINT",):
        i = 2 if action[1:2] == ("COLUMN",) else 1
        i += 2 * (action[i:i + 2] == ("IF", "EXISTS"))
        if i < len(action):
            pair = (table, _unquote(action[i]))
            ctx.dropped_fills.pop(pair, None)
            ctx.relaxed_columns.discard(pair)
            ctx.column_defaults.discard(pair)
    elif action[:1] == ("ADD",) and action[1:2] not in (("CONSTRAINT",), ("PRIMARY",), ("UNIQUE",), ("CHECK",),
                                                         ("FOREIGN",), ("EXCLUDE",)):
        i = 2 if action[1:2] == ("COLUMN",) else 1
        i += 3 * (action[i:i + 3] == ("IF", "NOT", "EXISTS"))
        if i < len(action) and "DEFAULT" in action[i + 1:]:
            ctx.column_defaults.add((table, _unquote(action[i])))
    elif action[:2] == ("DISABLE", "TRIGGER") and len(action) >= 3:
        which = action[2]
        for key in [k for k in ctx.fill_triggers if k[0] == table]:
            if which in ("ALL", "USER") or key[1] == _unquote(which):
                _gone(ctx, *key)


def defaults_of_create(ctx: Context, node) -> None:
    """Columns a CREATE TABLE gives a DEFAULT (a trigger's fill is not needed for them)."""
    from sqlglot import exp

    from migrator.rules import table_name

    name = table_name(node.this)
    schema = node.this if isinstance(node.this, exp.Schema) else None
    if not name or schema is None:
        return
    for col in schema.expressions:
        if isinstance(col, exp.ColumnDef) and any(
                isinstance(c.args.get("kind"), exp.DefaultColumnConstraint) for c in col.args.get("constraints") or []):
            ctx.column_defaults.add((table_key(name), col.name.lower()))
