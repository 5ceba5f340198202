"""The window-by-window splitter finds exactly the statements that tokenizing the whole text finds.

The reference below is the splitter as it was before windows: tokenize everything, cut at semicolons. The
windowed one is run with tiny windows so that cuts fall inside strings, dollar quotes, comments, identifiers
and command tails, on the rule fixtures, the labelled corpus and hand-made traps."""

from __future__ import annotations

import pytest
from sqlglot.tokens import TokenType

from migrator.errors import InputError
from migrator.sql import split
from tests.corpus import load_migrations, load_statements
from tests.rules.fixtures import FIXTURES, load_cases

TRAPS = [
    "SELECT 'a;b'; SELECT $$ ; $$; SELECT $tag$ ;'; $tag$;\nSELECT E'it\\'s; ok';",
    "/* a ; /* nested ; */ still ; */ SELECT 1;\n-- line ; comment\nSELECT 2",
    'CREATE TABLE "odd;name" ("a;b" int);\nALTER TABLE "odd;name" ADD COLUMN c text;',
    "DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;\nVACUUM (ANALYZE) users;\nREINDEX TABLE CONCURRENTLY users;",
    "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n  NEW.a := 'x;y';\n  RETURN NEW;\nEND;\n$body$;",
    "SELECT 1;;; ;\n\n;SELECT 2;\r\nSELECT 3\r\n;",
    "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y;z'), (3, $$q;$$);\nUPDATE t SET a = a + 1 WHERE id = 1;",
    "SELECT U&'d\\0061t\\+000061'; SELECT x'1F'; SELECT b'101'; SELECT 1e10, 1.5, .5;",
    "SET lock_timeout = '2s'; BEGIN; ALTER TABLE t ADD COLUMN x int; COMMIT;",
]


def reference(text: str) -> list[tuple]:
    tokens = split.dialect().tokenize(text)
    chunks, current = [], []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if current:
                chunks.append(current)
            current = []
        else:
            current.append(token)
    if current:
        chunks.append(current)
    return [(text[c[0].start:c[-1].end + 1], c[0].start, c[-1].end + 1, text.count("\n", 0, c[0].start) + 1,
             [t.text for t in c]) for c in chunks]


def windowed(text: str) -> list[tuple]:
    return [(s.sql, s.start, s.end, s.line, [t.text for t in s.tokens]) for s in split.split_statements(text)]


def _texts():
    for case_file in sorted(FIXTURES.glob("*.sql")):
        for case in load_cases(case_file.stem):
            yield f"fixture:{case.rule}:{case.line}", case.sql
    for item in load_migrations():
        yield f"corpus:{item.source}", item.sql
    yield "statements.tsv", ";\n".join(item.sql for item in load_statements()) + ";\n"
    for i, trap in enumerate(TRAPS):
        yield f"trap:{i}", trap


TEXTS = list(_texts())


@pytest.mark.parametrize("window", [7, 64, 1000])
def test_windowed_split_equals_whole_text_split(monkeypatch, window):
    monkeypatch.setattr(split, "WINDOW", window)
    checked = 0
    for name, text in TEXTS:
        try:
            expected = reference(text)
        except Exception:
            with pytest.raises(InputError):
                split.split_statements(text)
            continue
        assert windowed(text) == expected, name
        checked += 1
    assert checked > 100


def test_windowed_nodes_equal_whole_text_nodes(monkeypatch):
    monkeypatch.setattr(split, "WINDOW", 64)
    for name, text in TEXTS[-len(TRAPS):]:
        whole = [s.node.sql("postgres") if s.node is not None else s.error for s in split.split_statements(text)]
        monkeypatch.setattr(split, "WINDOW", 1 << 16)
        assert [s.node.sql("postgres") if s.node is not None else s.error
                for s in split.split_statements(text)] == whole, name
        monkeypatch.setattr(split, "WINDOW", 64)


@pytest.mark.parametrize("text, says", [
    ("SELECT 1;\n" * 50 + "SELECT 'open;\nSELECT 2;\n", "unterminated string literal"),
    ("SELECT 1;\n" * 50 + "SELECT $x$ never;\n", "dollar-quoted"),
])
def test_untokenizable_text_is_an_input_error_with_its_line(monkeypatch, text, says):
    monkeypatch.setattr(split, "WINDOW", 16)
    with pytest.raises(InputError, match=says) as info:
        split.split_statements(text, "x.sql")
    assert info.value.line == 51


def test_giant_insert_is_read_from_its_head(monkeypatch):
    monkeypatch.setattr(split, "WINDOW", 256)
    monkeypatch.setattr(split, "MAX_TOKENS", 500)
    rows = ", ".join(f"({i}, 'name {i}; not an end', $${i}$$)" for i in range(2000))
    text = f"SELECT 1;\nINSERT INTO accounts (id, name, note) VALUES {rows};\nSELECT 2;\nUPDATE t SET a = 1"
    statements = split.split_statements(text)
    assert [s.sql.split()[0] for s in statements] == ["SELECT", "INSERT", "SELECT", "UPDATE"]
    giant = statements[1]
    assert giant.head_only and giant.sql == text[text.index("INSERT"):text.index(";\nSELECT 2")]
    assert giant.node is not None and giant.node.this.sql() == "accounts (id, name, note)"
    assert len(giant.tokens) <= split.HEAD_TOKENS
    assert [s.line for s in statements] == [1, 2, 3, 4]


def test_giant_statement_that_is_not_an_insert_is_left_unparsed(monkeypatch):
    monkeypatch.setattr(split, "WINDOW", 256)
    monkeypatch.setattr(split, "MAX_TOKENS", 500)
    ids = ", ".join(str(i) for i in range(3000))
    statements = split.split_statements(f"UPDATE t SET a = 0 WHERE id IN ({ids});\nSELECT 1;")
    assert statements[0].node is None and "read from its head" in statements[0].error
    assert statements[1].sql == "SELECT 1"


def test_giant_statement_with_an_unterminated_literal_is_an_input_error(monkeypatch):
    monkeypatch.setattr(split, "WINDOW", 256)
    monkeypatch.setattr(split, "MAX_TOKENS", 500)
    rows = ", ".join(f"({i})" for i in range(2000))
    with pytest.raises(InputError, match="unterminated string literal"):
        split.split_statements(f"INSERT INTO t (a) VALUES {rows}, ('open);\nSELECT 1;")
