"""Rules: one module per rule, each with its id, phase, lock, docs (the class docstring).

The public surface for rule plug-ins (the `migrator.rules` entry point, docs/plugins.md): subclass `Rule`, set
`id, name, phase, severity` and `nodes` (sqlglot node types) or `commands` (leading words of statements sqlglot
leaves opaque), and yield `self.hit(...)` from `check(stmt, ctx)`. A rule about a whole migration subclasses
`MigrationRule` instead and yields its hits from `check_migration(migration)` (a `Migration`), at the CLASSIFY or
LINT stage."""

from migrator.rules._base import CLASSIFY, LINT, WHOLE, Context, Hit, Migration, MigrationRule, Rule, table_name

# public too, for the classifier core (engine, tracking, catalog), the renderers and the CLI; not in __all__,
# which is the plug-in surface
from migrator.rules._base import RuleConfig, SchemaKnowledge, table_key  # noqa: F401  # isort: skip
from migrator.rules._explain import explain, explain_text, rule_url, rules_base, short_link  # noqa: F401
from migrator.rules._objects import create_kind, read_policy, skip_if_exists  # noqa: F401

__all__ = ["CLASSIFY", "LINT", "WHOLE", "Context", "Hit", "Migration", "MigrationRule", "Rule", "table_name"]
