"""migrator: safe zero-downtime database releases (expand / migrate / contract).

The public names are imported on first use (PEP 562), so that `import migrator.cli`
and `migrator --help` do not load sqlglot.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "classify": "migrator.api", "classify_paths": "migrator.api",
    "Config": "migrator.config", "load_config": "migrator.config",
    "ConfigError": "migrator.errors", "InputError": "migrator.errors", "MigratorError": "migrator.errors",
    "UsageError": "migrator.errors",
    "Finding": "migrator.model", "MigrationReport": "migrator.model", "Report": "migrator.model",
    "StatementReport": "migrator.model",
    "Lock": "migrator.phases", "Phase": "migrator.phases", "Rewrite": "migrator.phases", "Severity": "migrator.phases",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'migrator' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover
    from migrator.api import classify, classify_paths
    from migrator.config import Config, load_config
    from migrator.errors import ConfigError, InputError, MigratorError, UsageError
    from migrator.model import Finding, MigrationReport, Report, StatementReport
    from migrator.phases import Lock, Phase, Rewrite, Severity
