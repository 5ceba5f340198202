"""Errors of the release commands.

    MigratorError (migrator.errors)
     +-- ReleaseError            infrastructure / usage: no database, bad ledger (exit 2)
     |    +-- CoordinatorBusy     another migrator command holds the database's coordinator lock (exit 2)
     |    +-- CoordinatorLost     this command's coordinator lock is gone (its session ended): it stopped (exit 2)
     |    +-- LedgerTampered      the ledger's event chain or a release's state was changed outside migrator (exit 2)
     +-- PreconditionFailed      the release is not in a state that allows the command (exit 1)
     +-- GateRefused             a gate did not pass (exit 1); .reasons lists each failed gate
     +-- HookFailed              the router hook failed or timed out (exit 1; migrator.routers.base)
     +-- Interrupted             SIGINT / SIGTERM: what was under way was undone or recorded (exit 130 / 143)
"""

from __future__ import annotations

from migrator.errors import MigratorError
from migrator.routers.base import HookFailed  # lives with the hooks; the release commands raise it too

__all__ = ["CoordinatorBusy", "CoordinatorLost", "GateRefused", "HookFailed", "Interrupted", "LedgerTampered",
           "PreconditionFailed", "ReleaseError"]


class ReleaseError(MigratorError):
    exit_code = 2


class CoordinatorBusy(ReleaseError):
    exit_code = 2


class CoordinatorLost(ReleaseError):
    exit_code = 2


class LedgerTampered(ReleaseError):
    exit_code = 2


class PreconditionFailed(MigratorError):
    exit_code = 1

    def __init__(self, message: str, next_command: str | None = None):
        super().__init__(message + (f"; run `{next_command}` first" if next_command else ""))
        self.next_command = next_command


class GateRefused(MigratorError):
    exit_code = 1

    def __init__(self, gate: str, reasons: list[str]):
        super().__init__(f"{gate} gate refused: " + "; ".join(reasons))
        self.gate, self.reasons = gate, reasons


class Interrupted(MigratorError):
    """A signal stopped the command; exit 128 + the signal's number, as a shell reports it."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum
