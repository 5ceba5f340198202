"""Text that is safe to put on a terminal or in a CI log.

SQL identifiers, file contents, file names, `--reason` and hook messages can carry control characters: an
escape sequence clears the screen, rewrites the window title or hides a line (`\\r`, cursor moves), a NUL
truncates the line in some viewers, and bidirectional overrides reorder what a reviewer reads. Every text
render passes what it prints through `escape_controls`; JSON output needs nothing (json.dumps escapes).
"""

from __future__ import annotations

import re

# C0 controls (tab and newline are handled by the caller's choice), DEL, C1 controls, and the Unicode
# format characters that move or reorder text: bidi embeddings/overrides/isolates and the line separators.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_CONTROLS_AND_LINES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\0"}


def _escaped(match: re.Match) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_lines: bool = True) -> str:
    """`text` with every control character shown as an escape (`\\x1b`, `\\0`, `\\u202e`).

    keep_lines=True keeps newlines and tabs (a multi-line render); False escapes them too (one field on one line).
    """
    if not isinstance(text, str):
        text = str(text)
    pattern = _CONTROLS if keep_lines else _CONTROLS_AND_LINES
    if pattern.search(text) is None:  # the common case: nothing to do, no copy
        return text
    return pattern.sub(_escaped, text)
