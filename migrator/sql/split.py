"""Split SQL text into statements and parse each one on its own.

The whole text is tokenized once with sqlglot's PostgreSQL tokenizer (which
understands dollar quotes), cut at top-level semicolons, and each chunk is
parsed separately so that one bad statement never hides the others.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from migrator.errors import InputError

# sqlglot logs a warning for every statement it falls back to exp.Command on.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_STRINGS = {TokenType.STRING, TokenType.HEREDOC_STRING, TokenType.NATIONAL_STRING, TokenType.RAW_STRING}


@dataclass(eq=False)
class Statement:
    """One statement of a migration, parsed or not."""

    index: int
    sql: str
    line: int
    column: int
    start: int
    end: int
    tokens: list[Token] = field(repr=False)
    node: exp.Expr | None = field(default=None, repr=False)
    error: str | None = None
    _words: tuple[str, ...] | None = field(default=None, repr=False)

    @property
    def words(self) -> tuple[str, ...]:
        """Upper-cased token texts, string literals kept quoted: the token-level view."""
        if self._words is None:
            self._words = _words_of(self.tokens)
            tail = self.tokens[1] if len(self.tokens) == 2 else None
            if tail is not None and tail.token_type == TokenType.STRING and (
                self.sql[tail.start - self.start : tail.start - self.start + 1] not in ("'", "$", "")
            ):
                # The tokenizer folds the tail of a "command" (EXPLAIN, VACUUM, REINDEX, ...) into one string.
                try:
                    self._words = self._words[:1] + _words_of(dialect().tokenize(self.tokens[1].text))
                except Exception:  # an unreadable tail stays one opaque word: rules won't claim it
                    pass
        return self._words

    @property
    def is_command(self) -> bool:
        """True when sqlglot did not build a typed tree (fallback or parse error)."""
        return self.node is None or isinstance(self.node, exp.Command)


def _words_of(tokens: list[Token]) -> tuple[str, ...]:
    return tuple("'" + t.text + "'" if t.token_type in _STRINGS else t.text.upper() for t in tokens)


def _dialect():
    from sqlglot.dialects.postgres import Postgres

    return Postgres()


_DIALECT = None


def dialect():
    global _DIALECT
    if _DIALECT is None:
        _DIALECT = _dialect()
    return _DIALECT


def tokenize(text: str, source: str | None = None) -> list[Token]:
    try:
        return dialect().tokenize(text)
    except TokenError as exc:
        message, line, column = _token_error(text, exc)
        raise InputError(message, source, line, column) from exc
    except RecursionError as exc:
        raise InputError("SQL nested too deeply to tokenize", source) from exc


# sqlglot's TokenError says only "Error tokenizing '<context>'"; its cause says what is missing, e.g.
# "Missing ' from 2:17" or "Missing $body$ from 1:35", with the offset where the literal opened.
_MISSING = re.compile(r"Missing (\S+) from \d+:(\d+)")


def _token_error(text: str, exc: TokenError) -> tuple[str, int | None, int | None]:
    """A one-line message and the line/column where the unterminated literal starts (when known)."""
    cause = str(exc.__cause__ or "")
    m = _MISSING.search(cause)
    if m:
        delimiter, offset = m.group(1), int(m.group(2))
        line = column = None
        if 0 <= offset < len(text):
            line, column = text.count("\n", 0, offset) + 1, _column(text, offset)
        if delimiter.startswith("$"):
            what = f"unterminated dollar-quoted string (no closing {delimiter})"
        elif delimiter == '"':
            what = "unterminated quoted identifier (no closing \")"
        elif delimiter == "'":
            what = "unterminated string literal (no closing ')"
        else:
            what = f"unterminated literal (no closing {delimiter})"
        return what, line, column
    if text.count("/*") > text.count("*/"):
        offset = text.rfind("/*")
        return "unterminated /* comment", text.count("\n", 0, offset) + 1, _column(text, offset)
    start = getattr(exc, "start", None)
    line = text.count("\n", 0, start) + 1 if isinstance(start, int) and 0 <= start <= len(text) else None
    return "cannot tokenize SQL", line, None


def split_statements(text: str, source: str | None = None) -> list[Statement]:
    """Tokenize, cut at semicolons and parse each statement (never raises on bad SQL)."""
    tokens = tokenize(text, source)
    chunks: list[list[Token]] = []
    current: list[Token] = []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if current:
                chunks.append(current)
            current = []
        else:
            current.append(token)
    if current:
        chunks.append(current)

    parser = dialect().parser(error_level=ErrorLevel.IMMEDIATE)
    statements = []
    for index, chunk in enumerate(chunks):
        first, last = chunk[0], chunk[-1]
        start = first.start
        stmt = Statement(
            index=index,
            sql=text[start : last.end + 1],
            line=first.line,
            column=_column(text, start),
            start=start,
            end=last.end + 1,
            tokens=chunk,
        )
        try:
            parsed = parser.parse(chunk, text)
            stmt.node = parsed[0] if parsed else None
            if stmt.node is None:
                stmt.error = "empty statement"
        except (ParseError, TokenError) as exc:
            stmt.error = (str(exc).splitlines() or ["parse error"])[0]
        except RecursionError:
            stmt.error = "statement nested too deeply to parse"
        except Exception as exc:  # sqlglot bugs must not escape: the statement stays unclassified
            stmt.error = f"parser failed: {type(exc).__name__}"
        statements.append(stmt)
    return statements


def _column(text: str, offset: int) -> int:
    return offset - text.rfind("\n", 0, offset)
