"""The rule registry: every module in migrator/rules plus the `migrator.rules` entry points."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from migrator.errors import ConfigError
from migrator.rules._base import Rule
from migrator.rules._explain import explain, explain_text, rules_base  # noqa: F401  (the rule pages, public here)

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


def known_rule(rule_id: str) -> Rule:
    """One of migrator's own rules by id (U000, P505, ...): those are always registered, so a missing one is a
    bug (KeyError), not a user error."""
    rule = find_rule(rule_id)
    if rule is None:
        raise KeyError(f"rule {rule_id} is not registered")
    return rule
