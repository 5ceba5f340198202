"""Ordered vocabularies: phase, severity, lock mode, rewrite class."""

from __future__ import annotations

from enum import IntEnum


class Phase(IntEnum):
    """Release phase from blue's point of view; a higher value is riskier."""

    NONE = 0
    EXPAND = 1
    MIGRATE = 2
    CONTRACT = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Phase":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown phase {text!r} (expected expand, migrate, contract or none)") from None


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


class Lock(IntEnum):
    """PostgreSQL table lock modes, weakest first (conflict strength order)."""

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")


class Rewrite(IntEnum):
    """How much work happens under the lock."""

    NONE = 0
    SCAN = 1
    INDEX = 2
    REWRITE = 3

    @property
    def label(self) -> str:
        return self.name.lower()
