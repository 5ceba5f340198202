"""Errors raised while provisioning throwaway PostgreSQL databases.

    MigratorError                (migrator.errors)
     +-- ProvisionError          a provider could not start, connect, create or drop (exit 2)
    SystemExit
     +-- SignalExit              SIGTERM arrived inside a provisioning block (exit 128 + signal)
"""

from __future__ import annotations

from migrator.errors import MigratorError


class ProvisionError(MigratorError):
    """A one-line, password-free message naming the provider and what failed."""

    def __init__(self, message: str, provider: str | None = None):
        message = " ".join(str(message).split())  # always one line
        super().__init__(f"{provider}: {message}" if provider else message)
        self.provider = provider


class SignalExit(SystemExit):
    """SIGTERM turned into an exception so that `with` blocks clean up before the process exits."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum
