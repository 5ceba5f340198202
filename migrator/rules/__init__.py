"""Rules: one module per rule, each with its id, phase, lock, docs (the class docstring).

The public surface for rule plug-ins (the `migrator.rules` entry point, docs/plugins.md): subclass `Rule`, set
`id, name, phase, severity` and `nodes` (sqlglot node types) or `commands` (leading words of statements sqlglot
leaves opaque), and yield `self.hit(...)` from `check(stmt, ctx)`."""

from migrator.rules._base import WHOLE, Context, Hit, Rule, table_name

__all__ = ["WHOLE", "Context", "Hit", "Rule", "table_name"]
