"""What `migrator compat` is asked to do: CLI options over `[tool.migrator.compat]` over defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from migrator.config import PROVIDERS
from migrator.errors import ConfigError

SCRATCH_ENV = "MIGRATOR_SCRATCH_URL"  # the server compat makes its throwaway databases on
TARGET_ENV = "MIGRATOR_DATABASE_URL"  # the release's target: never used by compat, only compared against
URL_ENV = SCRATCH_ENV


@dataclass
class CompatOptions:
    blue: str
    green: str | None = None  # None: the working tree
    repo: Path = field(default_factory=Path.cwd)  # any folder inside the git repository
    project_dir: str = "."  # the app's folder, relative to the repository root
    alembic_ini: str = "alembic.ini"
    suite: str = "compat_tests"
    python: str | None = None  # None: migrator.runner.find_python (config, $VIRTUAL_ENV, <project>/.venv, ...)
    provider: str = "auto"
    scratch_url: str | None = None  # the url provider's server; never the release's target
    url_var: str = "DATABASE_URL"
    url_form: str = "postgresql+psycopg"
    env_map: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    evidence: Path | None = None
    evidence_key_env: str | None = None  # None: $MIGRATOR_EVIDENCE_KEY signs the evidence when it is set
    full: bool = False  # also green on the contracted schema (what the contract gate needs)
    timeout: float = 1800.0
    template_cache: bool = True  # url provider: keep blue's schema as a template database between checks
    pytest_args: list[str] = field(default_factory=list)
    accept_schema_changes: bool = False  # a suite that changes the schema is inconclusive unless accepted
    attribute: bool = True  # re-run failing tests on their own version's schema before calling them incompatible
    parallel: bool = True  # run the cells side by side (each on its own database and checkout)
    workers: int | str = 1  # pytest-xdist workers per suite, each on its own database; "auto": one per CPU
    app: str | None = None  # [tool.migrator] app: the factory entered before env.py runs
    script_location: str | None = None
    # deprecated spellings
    matrix: bool = False
    database_url: str | None = None

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ConfigError(f"unknown provider {self.provider!r} (expected one of {', '.join(PROVIDERS)})")
        if self.matrix:
            self.full = True
        if self.database_url and not self.scratch_url:
            self.scratch_url = self.database_url


def apply_section(opts: CompatOptions, section: dict, explicit: set[str], base: Path | None = None) -> CompatOptions:
    """Fill the options the user did not give on the command line (`explicit`) from the keys
    [tool.migrator.compat] gives (`config.compat.items()`, checked by migrator.config).

    `base`: the folder of the pyproject.toml; a relative `python` path there is taken from it (a bare
    name such as "python3" is still looked up on PATH)."""
    for key, value in section.items():
        name = "alembic_ini" if key == "alembic_config" else key
        if name == "python" and base is not None and os.sep in value and not os.path.isabs(value):
            value = str(Path(base) / value)
        if name in ("env", "env_map"):
            merged = dict(value)
            merged.update(getattr(opts, name))  # the command line wins per variable
            setattr(opts, name, merged)
        elif name not in explicit:
            setattr(opts, name, value)
    if opts.scratch_url is None:
        opts.scratch_url = os.environ.get(SCRATCH_ENV) or None
    CompatOptions.__post_init__(opts)
    return opts
