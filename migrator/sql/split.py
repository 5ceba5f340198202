"""Split SQL text into statements and parse each one on its own, one window of text at a time.

The text is tokenized with sqlglot's PostgreSQL tokenizer (which understands
dollar quotes) in windows of WINDOW characters; the tokens up to a window's
last top-level semicolon are exact (a window cut inside a string fails at that
string, and the tokens before it are still exact), so the next window starts
right after that semicolon. Each statement is parsed separately, so one bad
statement never hides the others, and only the current window's tokens and
the current statement's tree are alive: memory does not grow with the file.

A statement of more than MAX_TOKENS tokens (a giant `INSERT ... VALUES`) is
read from its head: its end is found window by window without keeping tokens,
an INSERT is parsed with its first row only (it is a data change either way),
and anything else is left unparsed (unclassified: never assumed safe).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
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
    base: int = 0  # offset in the text of the window the tokens' offsets count from
    head_only: bool = False  # a giant statement: tokens and node describe its head

    @property
    def words(self) -> tuple[str, ...]:
        """Upper-cased token texts, string literals kept quoted: the token-level view."""
        if self._words is None:
            self._words = _words_of(self.tokens)
            tail = self.tokens[1] if len(self.tokens) == 2 else None
            if tail is not None and tail.token_type == TokenType.STRING and (
                self.sql[tail.start + self.base - self.start : tail.start + self.base - self.start + 1]
                not in ("'", "$", "")
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


WINDOW = 1 << 16  # characters tokenized at a time
MAX_TOKENS = 1 << 17  # a statement with more tokens than this is read from its head


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


def _token_error(text: str, exc: TokenError, shift: int = 0) -> tuple[str, int | None, int | None]:
    """A one-line message and the line/column where the unterminated literal starts (when known).

    `shift`: the offset in `text` of the window the tokenizer was given."""
    cause = str(exc.__cause__ or "")
    m = _MISSING.search(cause)
    if m:
        delimiter, offset = m.group(1), int(m.group(2)) + shift
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
    if text.count("/*", shift) > text.count("*/", shift):
        offset = text.rfind("/*")
        return "unterminated /* comment", text.count("\n", 0, offset) + 1, _column(text, offset)
    start = getattr(exc, "start", None)
    if isinstance(start, int):
        start += shift
    line = text.count("\n", 0, start) + 1 if isinstance(start, int) and 0 <= start <= len(text) else None
    return "cannot tokenize SQL", line, None


class _Tokens:
    """One tokenizer, reused; `read` returns the exact tokens of a window even when it fails on a literal the
    window cut (the tokens before that literal are complete)."""

    def __init__(self) -> None:
        self.tokenizer = dialect().tokenizer()

    def read(self, window: str) -> tuple[list[Token], TokenError | None]:
        try:
            return self.tokenizer.tokenize(window), None
        except TokenError as exc:
            return list(self.tokenizer.tokens), exc
        except RecursionError as exc:
            error = TokenError("SQL nested too deeply to tokenize")
            error.__cause__ = exc
            return [], error


def _after_last_semicolon(tokens: list[Token]) -> int:
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].token_type == TokenType.SEMICOLON:
            return i + 1
    return 0


def split_statements(text: str, source: str | None = None) -> list[Statement]:
    """Every statement of the text, parsed (never raises on bad SQL; InputError on untokenizable text)."""
    return list(iter_statements(text, source))


def iter_statements(text: str, source: str | None = None) -> Iterator[Statement]:
    """Tokenize window by window, cut at semicolons and parse each statement as it is asked for.

    Raises InputError when the text cannot be tokenized (an unterminated literal or comment), at the point
    where that is found: statements before it have been yielded already."""
    reader = _Tokens()
    parser = dialect().parser(error_level=ErrorLevel.IMMEDIATE)
    size, pos, line, index = len(text), 0, 1, 0  # `line`: the line `pos` is on
    while pos < size:
        width, giant = WINDOW, None
        while True:
            end = min(size, pos + width)
            window = text[pos:end]
            tokens, error = reader.read(window)
            if end == size:
                if error is not None:
                    message, at_line, column = _token_error(text, error, pos)
                    raise InputError(message, source, at_line, column) from error
                cut = len(tokens)
                break
            cut = _after_last_semicolon(tokens)
            if cut:
                break
            if len(tokens) > MAX_TOKENS:  # one statement this long: read its head, skim to its end
                giant = _giant_statement(text, pos, window, tokens, reader, index, line, source)
                break
            width *= 2
        if giant is not None:
            stmt, after = giant
            yield stmt
            index += 1
            line = stmt.line + text.count("\n", stmt.start, after)
            pos = after
            continue
        offset = chunk_start = 0  # `offset`: where `line` counts from, in the window
        for i in range(cut + 1):
            if i < cut and tokens[i].token_type != TokenType.SEMICOLON:
                continue
            if i > chunk_start:
                first = tokens[chunk_start]
                line += window.count("\n", offset, first.start)
                offset = first.start
                yield _statement(index, tokens[chunk_start:i], window, pos, text, line, parser)
                index += 1
            chunk_start = i + 1
        if end == size:
            return
        last = tokens[cut - 1]  # the window's last semicolon: the next window starts after it
        line += window.count("\n", offset, last.end + 1)
        pos += last.end + 1


def _statement(index: int, chunk: list[Token], window: str, base: int, text: str, line: int,
               parser) -> Statement:
    first, last = chunk[0], chunk[-1]
    start = base + first.start
    stmt = Statement(index=index, sql=window[first.start : last.end + 1], line=line, column=_column(text, start),
                     start=start, end=base + last.end + 1, tokens=chunk, base=base)
    _parse(stmt, chunk, window, parser)
    return stmt


def _parse(stmt: Statement, tokens: list[Token], window: str, parser) -> None:
    try:
        parsed = parser.parse(tokens, window)
        stmt.node = parsed[0] if parsed else None
        if stmt.node is None:
            stmt.error = "empty statement"
    except (ParseError, TokenError) as exc:
        stmt.error = (str(exc).splitlines() or ["parse error"])[0]
    except RecursionError:
        stmt.error = "statement nested too deeply to parse"
    except Exception as exc:  # sqlglot bugs must not escape: the statement stays unclassified
        stmt.error = f"parser failed: {type(exc).__name__}"


# --- giant statements ---------------------------------------------------------------------------------------

_PUNCTUATION = {TokenType.COMMA, TokenType.L_PAREN, TokenType.R_PAREN}
HEAD_TOKENS = 4096  # tokens of a giant statement kept for the rules' token-level view


def _giant_statement(text: str, pos: int, window: str, tokens: list[Token], reader: _Tokens, index: int,
                     line: int, source: str | None) -> tuple[Statement, int]:
    """The statement that starts in `window` and has more than MAX_TOKENS tokens: (the statement read from its
    head, the offset right after its terminating semicolon, or the end of the text)."""
    first = tokens[0]
    start = pos + first.start
    line += window.count("\n", 0, first.start)
    last_end, after = _skim_to_end(text, pos, tokens, reader, source)
    sql = text[start:last_end]
    head = tokens[:HEAD_TOKENS]
    stmt = Statement(index=index, sql=sql, line=line, column=_column(text, start), start=start, end=last_end,
                     tokens=head, base=pos, head_only=True)
    row = _first_values_row(tokens)
    mib = len(sql) / (1024 * 1024)
    if row is not None:  # INSERT ... VALUES (...), (...), ...: its first row says all the rules need to know
        _parse(stmt, tokens[:row], window, dialect().parser(error_level=ErrorLevel.IMMEDIATE))
    if stmt.node is None:
        stmt.error = (f"a statement of {mib:.1f} MiB and more than {MAX_TOKENS:,} tokens is read from its head "
                      "only, and its head says too little")
    return stmt, after


def _first_values_row(tokens: list[Token]) -> int | None:
    """For INSERT INTO t [(cols)] VALUES (row), ...: the number of tokens up to the end of the first row."""
    if not tokens or tokens[0].token_type != TokenType.INSERT:
        return None
    depth = 0
    values = None
    for i, token in enumerate(tokens):
        kind = token.token_type
        if values is None:
            if kind == TokenType.VALUES and depth == 0:
                values = i
            elif kind == TokenType.L_PAREN:
                depth += 1
            elif kind == TokenType.R_PAREN:
                depth -= 1
            elif kind == TokenType.SELECT or i > 10_000:
                return None
            continue
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _restart_after(tokens: list[Token]) -> int:
    """An offset in the window after which tokenizing can start afresh: the end of its last punctuation token
    (its tokens up to there are exact, and no literal or comment is open there)."""
    for token in reversed(tokens):
        if token.token_type in _PUNCTUATION:
            return token.end + 1
    return 0


def _skim_to_end(text: str, pos: int, tokens: list[Token], reader: _Tokens,
                 source: str | None) -> tuple[int, int]:
    """Find the end of the statement starting at `pos` without keeping its tokens: (offset after its last token,
    offset after its semicolon). Raises InputError when a literal never closes."""
    size = len(text)
    restart = _restart_after(tokens)
    cursor = pos + restart
    last_end = pos + max((t.end + 1 for t in tokens if t.end + 1 <= restart), default=0)
    width = WINDOW * 16
    while True:
        end = min(size, cursor + width)
        window = text[cursor:end]
        found, error = reader.read(window)
        for i, token in enumerate(found):
            if token.token_type == TokenType.SEMICOLON:
                if i:
                    last_end = cursor + found[i - 1].end + 1
                return last_end, cursor + token.end + 1
        if end == size:
            if error is not None:
                message, at_line, column = _token_error(text, error, cursor)
                raise InputError(message, source, at_line, column) from error
            if found:
                last_end = cursor + found[-1].end + 1
            return last_end, size
        step = _restart_after(found)
        if step == 0:  # one literal longer than the window: look further
            width *= 2
            continue
        last_end = cursor + max(t.end + 1 for t in found if t.end + 1 <= step)
        cursor += step
        width = WINDOW * 16


def _column(text: str, offset: int) -> int:
    return offset - text.rfind("\n", 0, offset)
