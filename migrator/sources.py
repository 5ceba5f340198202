"""Read SQL migrations from files, directories and stdin."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from migrator.errors import InputError

MAX_BYTES = 64 * 1024 * 1024


@dataclass
class SqlSource:
    name: str
    text: str


def read_sql_file(path: Path) -> SqlSource:
    if path.suffix == ".py":
        raise InputError("a Python file, not SQL: classify alembic revisions with --alembic-config", str(path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory", str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", str(path)) from None
    return SqlSource(str(path), decode(data, str(path)))


def decode(data: bytes, name: str) -> str:
    if len(data) > MAX_BYTES:
        raise InputError(f"file larger than {MAX_BYTES // (1024 * 1024)} MiB", name)
    if b"\x00" in data[:8192]:
        raise InputError("binary file, not SQL text", name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", name) from None
    if not text.strip():
        raise InputError("empty file: no SQL statements", name)
    return text


def expand_paths(paths: list[str]) -> list[SqlSource]:
    """Files as given; directories as their *.sql files, sorted; '-' reads stdin."""
    sources: list[SqlSource] = []
    for raw in paths:
        if raw == "-":
            sources.append(SqlSource("<stdin>", decode(sys.stdin.buffer.read(), "<stdin>")))
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.sql") if p.is_file())
            if not files:
                raise InputError("directory holds no .sql files", raw)
            sources.extend(read_sql_file(p) for p in files)
        elif path.exists():
            sources.append(read_sql_file(path))
        else:
            raise InputError("no such file or directory", raw)
    return sources
