"""Ordered vocabularies: phase, severity, lock mode, rewrite class."""

from __future__ import annotations

from enum import IntEnum
from typing import TypeVar

_V = TypeVar("_V", bound="_Vocabulary")
# what parse() names when the text is none of the words (in the order users think of them)
_EXPECTED = {"Phase": "expand, migrate, contract or none", "Severity": "error, warning or info"}


class _Vocabulary(IntEnum):
    """Members spelled in lower case; parse() takes any case."""

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls: type[_V], text: str) -> _V:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown {cls.__name__.lower()} {text!r} (expected {_EXPECTED[cls.__name__]})") from None


class Phase(_Vocabulary):
    """Release phase from blue's point of view; a higher value is riskier."""

    NONE = 0
    EXPAND = 1
    MIGRATE = 2
    CONTRACT = 3


class Severity(_Vocabulary):
    INFO = 1
    WARNING = 2
    ERROR = 3


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


class Rewrite(_Vocabulary):
    """How much work happens under the lock."""

    NONE = 0
    SCAN = 1
    INDEX = 2
    REWRITE = 3
