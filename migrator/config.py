"""Configuration: every `[tool.migrator...]` table of the user's pyproject.toml, read once, checked declaratively.

    config = load_config(path)        # [tool.migrator] -> Config
    config.compat                     # [tool.migrator.compat]  -> CompatSection
    config.release                    # [tool.migrator.release] -> ReleaseSection
    config.hook                       # [tool.migrator.hook]    -> dict (each router kind checks its own keys)
    config.fleet                      # [tool.migrator.fleet]   -> dict (migrator.fleet.config checks it)

Each checked section is a dataclass whose fields carry their check (`key(default, check)`); an unknown key or a
value of the wrong type is a ConfigError (exit 2) naming the key's path:
`pyproject.toml: [tool.migrator.release] lock_timeout: expected a duration like '2s', got 'soon'`.
Light on purpose: no sqlglot/SQLAlchemy here; the rules registry is imported only when the config names rules.
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, TypeVar

from migrator.durations import parse_duration
from migrator.errors import ConfigError
from migrator.phases import Severity
from migrator.settings import Settings
from migrator.files import MAX_BYTES, parse_size

SUPPORTED_DIALECTS = ("postgres",)
PROVIDERS = ("auto", "url", "embedded", "local", "docker")  # where compat's scratch server comes from

# a check turns a TOML value into the field's value; ValueError("expected ..., got ...") names what was wanted
Check = Callable[[Any], Any]
S = TypeVar("S")


def key(default: Any = MISSING, check: Check | None = None, *, factory: Callable[[], Any] | None = None,
        name: str | None = None) -> Any:
    """A section field: its default and its check; `name` when the TOML key is not the field's name."""
    meta = {"check": check, "key": name}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _got(value: Any) -> str:
    return f"got {value!r}"


def string(nonempty: bool = False) -> Check:
    def check(value):
        if not isinstance(value, str) or (nonempty and not value.strip()):
            raise ValueError(f"expected a {'non-empty ' if nonempty else ''}string, {_got(value)}")
        return value.strip() if nonempty else value
    return check


def boolean(value):
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, {_got(value)}")
    return value


def number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, {_got(value)}")
    return float(value)


def whole(minimum: int = 0) -> Check:
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < minimum:
            raise ValueError(f"expected a whole number >= {minimum}, {_got(value)}")
        return int(value)
    return check


def duration(value):
    try:
        return parse_duration(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"expected a duration like '2s' ({exc}), {_got(value)}") from None


def strings(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, {_got(value)}")
    return list(value)


def string_table(value):
    if not isinstance(value, dict):
        raise ValueError(f"expected a table of strings, {_got(value)}")
    for name, item in value.items():
        if not isinstance(item, str):
            raise ValueError(f"expected a table of strings, got {name} = {item!r}")
    return dict(value)


def one_of(*choices: str) -> Check:
    def check(value):
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, {_got(value)}")
        return value
    return check


def env_name(value):
    from migrator.evidence import check_key_env_name

    try:
        return check_key_env_name(value, "")
    except ConfigError:
        raise ValueError(f"expected the name of an environment variable, {_got(value)}") from None


def read_section(cls: type[S], table: Any, where: str) -> S:
    """`table` checked against the fields of `cls`; the instance remembers which keys were given (`given`)
    and the table as written (`raw`)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    specs = {f.metadata.get("key") or f.name: f for f in fields(cls) if "check" in f.metadata}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for name, value in table.items():
        spec = specs.get(name)
        if spec is None:
            raise ConfigError(f"{where}: unknown key {name!r} (known: {', '.join(sorted(specs))})")
        check = spec.metadata["check"]
        try:
            values[spec.name] = check(value) if check is not None else value
        except ValueError as exc:
            raise ConfigError(f"{where} {name}: {exc}") from None
    section = cls(**values)
    object.__setattr__(section, "given", frozenset(values))
    object.__setattr__(section, "raw", dict(table))
    return section


def workers(value):
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ValueError(f"expected a number >= 1 or \"auto\", {_got(value)}")


@dataclass
class CompatSection:
    """[tool.migrator.compat]: defaults of `migrator compat`'s options (docs/configuration.md)."""

    suite: str = key("compat_tests", string())
    python: str | None = key(None, string(nonempty=True))
    provider: str = key("auto", one_of(*PROVIDERS))
    url_var: str = key("DATABASE_URL", string())
    url_form: str = key("postgresql+psycopg", string(nonempty=True))
    alembic_config: str | None = key(None, string(nonempty=True))
    timeout: float = key(1800.0, number)
    template_cache: bool = key(True, boolean)
    env_map: dict[str, str] = key(check=string_table, factory=dict)
    env: dict[str, str] = key(check=string_table, factory=dict)
    pytest_args: list[str] = key(check=strings, factory=list)
    accept_schema_changes: bool = key(False, boolean)
    full: bool = key(False, boolean)
    evidence_key_env: str | None = key(None, env_name)
    parallel: bool = key(True, boolean)
    workers: int | str = key(1, workers)
    given: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def items(self) -> dict[str, Any]:
        """The keys the file gives, with their checked values."""
        return {(f.metadata.get("key") or f.name): getattr(self, f.name) for f in fields(self) if f.name in self.given}


def backoff(value):
    if isinstance(value, dict):
        unknown = set(value) - {"base", "max"}
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))} (base, max)")
        return {k: duration(v) for k, v in value.items()}
    return {"base": duration(value)}


def ledger_schema(value):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, {_got(value)}")
    return value


@dataclass
class ReleaseSection:
    """[tool.migrator.release], in the file's terms (seconds); migrator.release.settings adds the command line."""

    lock_timeout: float = key(0.5, duration)
    statement_timeout: float = key(0.0, duration)
    lock_retries: int = key(10, whole(0))
    retry_backoff: dict[str, float] = key(check=backoff, factory=dict)  # {"base": s, "max": s}
    retry_backoff_base: float = key(0.2, duration)
    retry_backoff_max: float = key(10.0, duration)
    soak: float = key(900.0, duration)
    blue_application_name: str | None = key(None, string())
    ledger_schema: str = key("migrator", ledger_schema)
    evidence_key_env: str | None = key(None, env_name)
    require_signed_evidence: bool = key(False, boolean)
    given: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    raw: dict = field(default_factory=dict, repr=False, compare=False)


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
    compat: CompatSection = field(default_factory=CompatSection)
    release: ReleaseSection = field(default_factory=ReleaseSection)
    hook: dict = field(default_factory=dict)  # the router kind checks the rest (migrator.routers.registry)
    fleet: dict = field(default_factory=dict)  # checked with the command line by migrator.fleet.config

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


def read_tool_table(path: Path) -> dict:
    """[tool.migrator] of a TOML file as written ({} when absent); the one place the file is parsed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {' '.join(str(exc).split())}") from None
    tool = data.get("tool", {})
    return tool.get("migrator", {}) if isinstance(tool, dict) else {}


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """Read [tool.migrator] from `path`, or from the nearest pyproject.toml; defaults when absent."""
    if path is None:
        path = find_pyproject(start)
        if path is None:
            return Config()
    elif not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    return config_from_mapping(read_tool_table(path), source=path)


def load_project_config(pyproject: str | Path | None) -> Config:
    """The config of a pyproject.toml (a folder means its pyproject.toml); defaults when the file is missing."""
    if pyproject is None:
        return Config()
    path = Path(pyproject)
    if path.is_dir():
        path = path / "pyproject.toml"
    return load_config(path) if path.is_file() else Config(source=path)


def _dialect(value):
    dialect = str(value).lower()
    dialect = "postgres" if dialect in ("postgresql", "pg") else dialect
    if dialect not in SUPPORTED_DIALECTS:
        raise ValueError(f"unsupported dialect {dialect!r} (supported: postgres)")
    return dialect


def _major(value):
    try:
        return int(str(value).split(".")[0])
    except ValueError:
        raise ValueError(f"postgres_version must be a number like 15, {_got(value)}") from None


def _fail_on(value):
    if str(value).strip().lower() == "never":
        return None
    try:
        return Severity.parse(str(value))
    except ValueError:
        raise ValueError(f"fail_on must be error, warning, info or never, {_got(value)}") from None


def _rules_url(value):
    if not isinstance(value, str):
        raise ValueError('rules_url must be a string (a URL, or "" for no links)')
    return value.strip()


@dataclass
class _TopSection:
    """[tool.migrator]'s own keys, as checked values (rule names are resolved afterwards)."""

    dialect: str = key("postgres", _dialect)
    postgres_version: int = key(15, _major)
    target_version: int | None = key(None, _major)  # alias of postgres_version
    assume_in_transaction: bool = key(False, boolean)
    severity: dict = key(check=lambda v: _table(v, 'a table of rule = "error|warning|info"'), factory=dict)
    disable: list = key(check=lambda v: _list(v, "a list of rule ids or names"), factory=list)
    fail_on: Severity | None = key(Severity.ERROR, _fail_on)
    alembic_config: str | None = key(None, string(nonempty=True))
    python: str | None = key(None, string(nonempty=True))
    app: str | None = key(None, string(nonempty=True))
    script_location: str | None = key(None, string(nonempty=True))
    max_file_size: int = key(MAX_BYTES, lambda v: _size(v))
    rules_url: str | None = key(None, _rules_url)
    compat: Any = key(None, None)
    release: Any = key(None, None)
    hook: Any = key(None, None)
    fleet: Any = key(None, None)
    given: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def _size(value):
    try:
        return parse_size(value, "")
    except ConfigError as exc:
        raise ValueError(str(exc).lstrip(": ")) from None


def _table(value, what: str):
    if not isinstance(value, dict):
        raise ValueError(f"expected {what}, {_got(value)}")
    return value


def _list(value, what: str):
    if not isinstance(value, list):
        raise ValueError(f"expected {what}, {_got(value)}")
    return value


def config_from_mapping(section: dict, source: Path | None = None) -> Config:
    where = f"{source}: [tool.migrator]" if source else "[tool.migrator]"
    top = read_section(_TopSection, section, where)
    cfg = Config(source=source, dialect=top.dialect, fail_on=top.fail_on, alembic_config=top.alembic_config,
                 python=top.python, app=top.app, script_location=top.script_location,
                 max_file_size=top.max_file_size, rules_url=top.rules_url)
    cfg.settings.postgres_version = top.postgres_version if "postgres_version" in top.given or \
        top.target_version is None else top.target_version
    cfg.settings.assume_in_transaction = top.assume_in_transaction

    def rule_id(name: str, what: str) -> str:
        from migrator.rules.registry import find_rule  # only when the config names rules: it loads sqlglot

        rule = find_rule(name)
        if rule is None:
            raise ConfigError(f"{where} {what}: unknown rule {name!r}")
        return rule.id

    for name, value in top.severity.items():
        try:
            level = Severity.parse(str(value))
        except ValueError as exc:
            raise ConfigError(f"{where} severity.{name}: {exc}") from None
        cfg.severity[rule_id(name, "severity")] = level
    cfg.disable = {rule_id(str(name), "disable") for name in top.disable}
    label = f"{source}: [tool.migrator" if source else "[tool.migrator"
    cfg.compat = read_section(CompatSection, section.get("compat", {}), f"{label}.compat]")
    cfg.release = read_section(ReleaseSection, section.get("release", {}), f"{label}.release]")
    for name in ("hook", "fleet"):
        table = section.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{label}.{name}] must be a table")
        setattr(cfg, name, table)
    return cfg
