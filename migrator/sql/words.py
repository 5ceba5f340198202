"""Token-level helpers for statements sqlglot could not type (exp.Command or parse errors)."""

from __future__ import annotations

from migrator.sql.split import Statement


def starts_with(words: tuple[str, ...], *prefix: str) -> bool:
    return words[: len(prefix)] == prefix


def find(words: tuple[str, ...], *seq: str, start: int = 0) -> int:
    """Index of the first occurrence of the word sequence, or -1."""
    n = len(seq)
    for i in range(start, len(words) - n + 1):
        if words[i : i + n] == seq:
            return i
    return -1


def contains(words: tuple[str, ...], *seq: str) -> bool:
    return find(words, *seq) >= 0


def alter_target(words: tuple[str, ...]) -> tuple[str | None, int]:
    """For ALTER <kind> [IF EXISTS] [ONLY] name ..., return (name, index after the name)."""
    i = 1
    while i < len(words) and words[i] in ("TABLE", "INDEX", "TYPE", "DOMAIN", "SCHEMA", "VIEW", "SEQUENCE",
                                          "MATERIALIZED", "FOREIGN", "FUNCTION", "PROCEDURE"):
        i += 1
    if words[i : i + 2] == ("IF", "EXISTS"):
        i += 2
    if i < len(words) and words[i] == "ONLY":
        i += 1
    return dotted_name(words, i)


def dotted_name(words: tuple[str, ...], i: int) -> tuple[str | None, int]:
    if i >= len(words):
        return None, i
    parts = [words[i]]
    i += 1
    while i + 1 < len(words) and words[i] == ".":
        parts.append(words[i + 1])
        i += 2
    if i < len(words) and words[i] == "*":  # ALTER TABLE name * (descendants)
        i += 1
    return ".".join(p.lower() for p in parts), i


def split_top_level(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Split at commas outside parentheses and brackets."""
    parts: list[tuple[str, ...]] = []
    depth = 0
    current: list[str] = []
    for w in words:
        if w == "(" or w == "[":  # ARRAY['a', 'b'] holds commas too
            depth += 1
        elif w == ")" or w == "]":
            depth -= 1
        if w == "," and depth == 0:
            parts.append(tuple(current))
            current = []
        else:
            current.append(w)
    parts.append(tuple(current))
    return parts


def command_actions(stmt: Statement) -> list[tuple[str, ...]]:
    """The comma-separated actions of an untyped ALTER TABLE, or the whole statement as one."""
    cached = getattr(stmt, "_actions", None)
    if cached is not None:
        return cached
    words = stmt.words
    if starts_with(words, "ALTER", "TABLE"):
        _, after = alter_target(words)
        actions = split_top_level(words[after:])
    else:
        actions = [words]
    stmt._actions = actions  # type: ignore[attr-defined]
    return actions
