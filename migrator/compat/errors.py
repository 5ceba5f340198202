"""Errors raised by `migrator compat`; each message is one line and holds no password.

    MigratorError                     (migrator.errors)
     +-- CompatError                  infrastructure or usage problem (exit 2)
          +-- CompatRefused           policy: a revision in the way of the check (exit 1)
          +-- RevisionFailed          policy: a revision failed to apply (exit 1)

Helpers append their own classes below.
"""

from __future__ import annotations

from migrator.errors import MigratorError


class CompatError(MigratorError):
    """A check could not run: bad ref, bad project, git or alembic trouble (exit 2)."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))  # always one line


class CompatRefused(CompatError):
    """The release cannot be checked as it is: a contract revision in the way (exit 1)."""

    exit_code = 1

    def __init__(self, revision: str, reason: str):
        super().__init__(reason)
        self.revision, self.reason = revision, " ".join(str(reason).split())
        self.plan: object | None = None  # the GreenPlan, when raised by plan_green (no import: apply imports us)


class RevisionFailed(CompatError):
    """A revision raised while alembic applied it; `reason` is the first line of its error (exit 1)."""

    exit_code = 1

    def __init__(self, revision: str, reason: str, *, role: str | None = None, statement: str | None = None):
        self.revision, self.reason, self.role, self.statement = revision, " ".join(str(reason).split()), role, statement
        where = f"{role} revision" if role else "revision"
        super().__init__(f"{where} {revision} failed to apply: {self.reason}")


class SuiteError(CompatError):
    """A test suite could not be run at all: its path or interpreter is missing, pytest is not installed (exit 2)."""
