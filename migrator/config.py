"""Configuration from `[tool.migrator]` in the user's pyproject.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from migrator.errors import ConfigError
from migrator.phases import Severity
from migrator.sources import MAX_BYTES, parse_size

SUPPORTED_DIALECTS = ("postgres",)
KNOWN_KEYS = {
    "dialect", "postgres_version", "target_version", "severity", "disable", "assume_in_transaction",
    "fail_on", "alembic_config", "python", "app", "script_location", "max_file_size", "rules_url",
}


@dataclass
class Settings:
    """The part of the configuration rules read (here, not with the rules: reading config needs no sqlglot)."""

    postgres_version: int = 15
    assume_in_transaction: bool = False


@dataclass
class Config:
    dialect: str = "postgres"
    settings: Settings = field(default_factory=Settings)
    severity: dict[str, Severity] = field(default_factory=dict)  # rule id -> severity
    disable: set[str] = field(default_factory=set)  # rule ids
    fail_on: Severity | None = Severity.ERROR  # None: never fail on findings
    alembic_config: str | None = None
    # how migrator runs the app's code (migrator.runner): its interpreter, app factory, alembic folder
    python: str | None = None
    app: str | None = None  # "package.module:create_app" or "package.module:create_app(arg=...)"
    script_location: str | None = None  # when alembic.ini leaves it to a front-end (Flask-Migrate)
    max_file_size: int = MAX_BYTES  # bytes: a larger SQL input is refused before it is read
    rules_url: str | None = None  # base URL of the rule pages ("" = no links); see migrator.rules._explain
    source: Path | None = None
    extra: dict = field(default_factory=dict)  # sections other commands read

    @property
    def project_dir(self) -> Path:
        """The app's folder: where its pyproject.toml is, else the current directory."""
        return self.source.parent if self.source is not None else Path.cwd()


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """Read [tool.migrator] from `path`, or from the nearest pyproject.toml; defaults when absent."""
    if path is None:
        path = find_pyproject(start)
        if path is None:
            return Config()
    elif not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    section = data.get("tool", {}).get("migrator", {})
    return config_from_mapping(section, source=path)


def config_from_mapping(section: dict, source: Path | None = None) -> Config:
    where = f"{source}: [tool.migrator]" if source else "[tool.migrator]"
    if not isinstance(section, dict):
        raise ConfigError(f"{where} must be a table")
    cfg = Config(source=source)
    cfg.extra = {k: v for k, v in section.items() if k not in KNOWN_KEYS}
    dialect = str(section.get("dialect", "postgres")).lower()
    if dialect in ("postgresql", "pg"):
        dialect = "postgres"
    if dialect not in SUPPORTED_DIALECTS:
        raise ConfigError(f"{where}: unsupported dialect {dialect!r} (supported: postgres)")
    cfg.dialect = dialect
    version = section.get("postgres_version", section.get("target_version", 15))
    try:
        cfg.settings.postgres_version = int(str(version).split(".")[0])
    except ValueError:
        raise ConfigError(f"{where}: postgres_version must be a number like 15, got {version!r}") from None
    in_transaction = section.get("assume_in_transaction", False)
    if not isinstance(in_transaction, bool):
        raise ConfigError(f"{where}: assume_in_transaction must be true or false, got {in_transaction!r}")
    cfg.settings.assume_in_transaction = in_transaction

    def rule_id(key: str, what: str) -> str:
        from migrator.rules.registry import find_rule  # only when the config names rules: it loads sqlglot

        rule = find_rule(key)
        if rule is None:
            raise ConfigError(f"{where}: {what} names unknown rule {key!r}")
        return rule.id

    severity = section.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{where}: severity must be a table of rule = \"error|warning|info\"")
    for key, value in severity.items():
        try:
            cfg.severity[rule_id(key, "severity")] = Severity.parse(str(value))
        except ValueError as exc:
            raise ConfigError(f"{where}: severity.{key}: {exc}") from None
    disable = section.get("disable", [])
    if not isinstance(disable, list):
        raise ConfigError(f"{where}: disable must be a list of rule ids or names")
    cfg.disable = {rule_id(str(k), "disable") for k in disable}
    if "fail_on" in section:
        if str(section["fail_on"]).strip().lower() == "never":
            cfg.fail_on = None
        else:
            try:
                cfg.fail_on = Severity.parse(str(section["fail_on"]))
            except ValueError:
                raise ConfigError(f"{where}: fail_on must be error, warning, info or never, "
                                  f"got {section['fail_on']!r}") from None
    for key in ("alembic_config", "python", "app", "script_location"):
        if key in section:
            value = section[key]
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: {key} must be a non-empty string, got {value!r}")
            setattr(cfg, key, value.strip())
    if "rules_url" in section:
        if not isinstance(section["rules_url"], str):
            raise ConfigError(f"{where}: rules_url must be a string (a URL, or \"\" for no links)")
        cfg.rules_url = section["rules_url"].strip()
    if "max_file_size" in section:
        cfg.max_file_size = parse_size(section["max_file_size"], f"{where}: max_file_size")
    return cfg
