"""The part of the configuration that rules read, in a leaf module: the rules and the config loader both import
it without importing each other (reading config needs no sqlglot)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Settings:
    postgres_version: int = 15
    assume_in_transaction: bool = False
