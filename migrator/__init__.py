"""migrator: safe zero-downtime database releases (expand / migrate / contract)."""

from migrator.api import classify, classify_paths
from migrator.config import Config, load_config
from migrator.errors import ConfigError, InputError, MigratorError, UsageError
from migrator.model import Finding, MigrationReport, Report, StatementReport
from migrator.phases import Lock, Phase, Rewrite, Severity

__version__ = "0.1.0"

__all__ = [
    "Config", "ConfigError", "Finding", "InputError", "Lock", "MigrationReport", "MigratorError", "Phase",
    "Report", "Rewrite", "Severity", "StatementReport", "UsageError", "classify", "classify_paths",
    "load_config",
]
