"""The rule registry: every module in migrator/rules plus the `migrator.rules` entry points."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import TypeVar

from migrator.errors import ConfigError
from migrator.rules._base import Hit, Migration, MigrationRule, Rule

R = TypeVar("R", bound=Rule)

ENTRY_POINT_GROUP = "migrator.rules"


def _module_rules() -> list[type[Rule]]:
    import migrator.rules as package

    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name == "registry":
            continue
        module = importlib.import_module(f"migrator.rules.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                found.append(value)
    return found


def _entry_point_rules() -> list[type[Rule]]:
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            value = ep.load()
        except Exception as exc:
            raise ConfigError(f"cannot load rule plug-in {ep.name!r}: {exc}") from exc
        if not (isinstance(value, type) and issubclass(value, Rule)):
            raise ConfigError(f"rule plug-in {ep.name!r} is not a migrator Rule class")
        found.append(value)
    return found


@lru_cache(maxsize=None)
def all_rules(plugins: bool = True) -> tuple[Rule, ...]:
    """Every rule, sorted by id; a duplicate id is a configuration error."""
    classes = _module_rules() + (_entry_point_rules() if plugins else [])
    rules: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for cls in classes:
        rule = cls()
        if rule.id in rules:
            raise ConfigError(f"two rules share the id {rule.id}: {type(rules[rule.id]).__name__} and {cls.__name__}")
        if rule.name in names:
            raise ConfigError(f"two rules share the name {rule.name}")
        rules[rule.id] = rule
        names[rule.name] = rule.id
    return tuple(sorted(rules.values(), key=lambda r: r.id))


def find_rule(key: str) -> Rule | None:
    """A rule by id (case-insensitive) or kebab-case name."""
    key = key.strip()
    for rule in all_rules():
        if rule.id.lower() == key.lower() or rule.name == key.lower():
            return rule
    return None


def known_rule(cls: type[R]) -> R:
    """The registered instance of one of migrator's own rule classes (`known_rule(Unclassified)`): those are
    always registered, so a missing one is a bug (KeyError), not a user error."""
    rule = _by_id().get(cls.id)
    if not isinstance(rule, cls):
        raise KeyError(f"rule {cls.id} ({cls.__name__}) is not registered")
    return rule


@lru_cache(maxsize=None)
def _by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in all_rules()}


@lru_cache(maxsize=None)
def migration_rules(stage: str) -> tuple[MigrationRule, ...]:
    """The migration-level rules (plug-ins included) that run at `stage` (CLASSIFY or LINT), by id."""
    return tuple(r for r in all_rules() if isinstance(r, MigrationRule) and r.stage == stage)


def run_migration_rules(stage: str, migration: Migration) -> list[Hit]:
    """The hits of the migration-level rules of `stage` that are not disabled. A rule that fails (a plug-in's
    bug) must not hide the others: it yields U000 instead, failing closed."""
    from migrator.rules.u000_unclassified import Unclassified

    hits: list[Hit] = []
    for rule in migration_rules(stage):
        if rule.id in migration.config.disable:
            continue
        try:
            hits.extend(rule.check_migration(migration))
        except Exception as exc:
            hits.append(known_rule(Unclassified).unread(f"rule {rule.id} failed on this migration "
                                                       f"({type(exc).__name__})"))
    return hits
