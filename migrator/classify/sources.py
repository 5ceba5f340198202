"""Read SQL migrations from files, directories and stdin, safely.

Every path is checked before a byte is read: a file must resolve inside the root it was found under (the
directory given, or the directory of a file given), so a symlink cannot smuggle /etc/shadow or a CI secrets
file into the output; only regular files are read (a FIFO would block, /dev/zero never ends); and a file
larger than the size limit is refused from its size alone. stdin may be a pipe, a terminal or a regular
file, and is read up to the limit.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from migrator.errors import InputError
from migrator.files import MAX_BYTES, file_kind, human_size, stat_or

STDIN = "<stdin>"


@dataclass
class SqlSource:
    """One migration to read: a checked file (read on demand) or stdin (read already)."""

    name: str
    path: str | None = None  # the resolved path to open; None for stdin
    data: bytes | None = None  # stdin's bytes
    max_bytes: int = MAX_BYTES

    def read_text(self) -> str:
        """The decoded text. The file is opened without blocking and checked again on the open descriptor."""
        if self.data is not None:
            return decode(self.data, self.name)
        assert self.path is not None  # not stdin: a file
        return decode(_read_regular(self.path, self.name, self.max_bytes), self.name)

    @property
    def text(self) -> str:  # the old attribute: read on first use
        return self.read_text()


def decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise InputError("binary file, not SQL text", name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", name) from None
    if not text.strip() and name == STDIN:  # an empty file is a migration without statements; empty stdin a mistake
        raise InputError("empty input: no SQL statements", name)
    return text


def find_sources(paths: list[str], max_bytes: int = MAX_BYTES) -> list[SqlSource]:
    """Check every path (files as given; directories as their *.sql files, sorted; '-' reads stdin) before any
    file is read. Raises InputError for the first path that cannot be used."""
    sources: list[SqlSource] = []
    for raw in paths:
        if raw == "-":
            sources.append(SqlSource(STDIN, data=_read_stdin(max_bytes), max_bytes=max_bytes))
            continue
        path = Path(raw)
        if path.suffix == ".py" and not path.is_dir():
            raise InputError("a Python file, not SQL: classify alembic revisions with --alembic-config", raw)
        if not os.path.lexists(raw):
            raise InputError("no such file or directory", raw)
        if path.is_dir():
            root = os.path.realpath(raw)
            files = sorted(_walk_sql(path, root))
            if not files:
                raise InputError("directory holds no .sql files", raw)
            sources.extend(_checked(p, root, max_bytes) for p in files)
        else:
            sources.append(_checked(path, os.path.realpath(path.parent), max_bytes))
    return sources


def expand_paths(paths: list[str], max_bytes: int = MAX_BYTES) -> list[SqlSource]:
    """find_sources(), then read and decode each one, so that an unreadable file stops the run before any
    output (the text of one file at a time is kept: callers read it again with read_text())."""
    sources = find_sources(paths, max_bytes)
    for src in sources:
        if src.data is None:
            src.read_text()
        else:
            decode(src.data, src.name)
    return sources


def iter_texts(sources: list[SqlSource]) -> Iterator[tuple[SqlSource, str]]:
    for src in sources:
        yield src, src.read_text()


# --- checks ------------------------------------------------------------------------------------------------


def _inside(resolved: str, root: str) -> bool:
    return resolved == root or resolved.startswith(root.rstrip(os.sep) + os.sep)


def _walk_sql(folder: Path, root: str) -> Iterator[Path]:
    """*.sql below `folder`, not following symlinked directories (one that leads outside the root is refused)."""
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        raise InputError(f"cannot read directory: {exc.strerror or exc}", str(folder)) from None
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_sql(path, root)
        elif entry.is_symlink() and os.path.isdir(entry.path):
            if not _inside(os.path.realpath(entry.path), root):
                raise InputError(f"symbolic link to a directory outside {_shown_root(root)}: refused", entry.path)
            # a link to a folder inside the root: its files are found under their own path
        elif entry.name.endswith(".sql"):
            yield path


def _shown_root(root: str) -> str:
    try:
        return os.path.relpath(root) if _inside(os.path.realpath(root), os.getcwd()) else root
    except ValueError:
        return root


def _checked(path: Path, root: str, max_bytes: int) -> SqlSource:
    name = str(path)
    resolved = os.path.realpath(path)
    if path.is_symlink() or resolved != os.path.abspath(path):
        if not _inside(resolved, root):
            raise InputError(f"symbolic link to a file outside {_shown_root(root)}: refused (give the file "
                             "itself if it is meant to be read)", name)
    info = stat_or(resolved, lambda why: InputError(why, name), "no such file (a dangling symbolic link?)",
                   "cannot read")
    _require_regular(info, name)
    _require_size(info.st_size, name, max_bytes)
    return SqlSource(name, path=resolved, max_bytes=max_bytes)


def _require_regular(info: os.stat_result, name: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = file_kind(info.st_mode)
        raise InputError("is a directory" if kind == "a directory" else f"not a regular file ({kind}): refused", name)


def _require_size(size: int, name: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise InputError(f"file of {human_size(size)} is larger than the limit of {human_size(max_bytes)} "
                         "(max_file_size in [tool.migrator], or --max-file-size)", name)


def _read_regular(path: str, name: str, max_bytes: int) -> bytes:
    """Open without following a swapped-in link or blocking on a FIFO; check the descriptor; read <= limit."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError("no such file", name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", name) from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        _require_regular(info, name)
        _require_size(info.st_size, name, max_bytes)
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", name) from None
    _require_size(len(data), name, max_bytes)  # it grew while we read
    return data


def _read_stdin(max_bytes: int) -> bytes:
    """stdin: a pipe, a terminal or a regular file; a device such as /dev/zero is refused before reading."""
    stream = sys.stdin.buffer
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        info = None
    if info is not None:
        mode = info.st_mode
        if stat.S_ISREG(mode):
            _require_size(info.st_size, STDIN, max_bytes)
        elif not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(stream.fileno())):
            raise InputError(f"not a regular file, pipe or terminal ({file_kind(mode)}): refused", STDIN)
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError(f"more than the limit of {human_size(max_bytes)} (max_file_size in [tool.migrator], "
                         "or --max-file-size)", STDIN)
    return data
