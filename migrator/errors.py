"""Exceptions raised by migrator.

    MigratorError
     +-- UsageError        bad option or argument (exit 2)
     +-- ConfigError       bad [tool.migrator] or alembic configuration (exit 2)
     +-- InputError        unreadable or unusable input file (exit 2)
"""

from __future__ import annotations


class MigratorError(Exception):
    """Base of every error migrator raises on purpose; the CLI maps it to exit 2."""

    exit_code = 2


class UsageError(MigratorError):
    pass


class ConfigError(MigratorError):
    pass


class InputError(MigratorError):
    def __init__(self, message: str, source: str | None = None, line: int | None = None, column: int | None = None):
        where = source or ""
        if source and line:
            where += f":{line}" + (f":{column}" if column else "")
        super().__init__(f"{where}: {message}" if where else message)
        self.source, self.line, self.column = source, line, column
