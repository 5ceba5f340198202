"""`migrator classify`: classify each statement of SQL files or alembic revisions (lint: migrator.commands.lint)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.errors import UsageError

if TYPE_CHECKING:
    from migrator.config import Config
    from migrator.model import MigrationReport, Summary


@dataclass
class ClassifyRequest:
    paths: list[str] = field(default_factory=list)  # SQL files, directories, '-'; with alembic_config: revision files
    alembic_config: str | None = None
    revision_range: str | None = None  # BASE:HEAD (alembic only)
    config_path: str | None = None  # pyproject.toml holding [tool.migrator]
    fail_on: str | None = None  # error, warning, info or never [default: fail_on of the config]
    max_file_size: str | None = None  # e.g. 64MiB [default: max_file_size of the config]
    rules_url: str | None = None
    verbose: bool = False
    lint: bool = False  # also fail on mixed migrations and declared phases that disagree


@dataclass
class ClassifyResult:
    """The migrations, classified one at a time as the renderer reaches them (bounded memory, output as it goes)."""

    migrations: Iterator[MigrationReport]
    config: Config
    lint: bool = False
    verbose: bool = False
    rules_url: str = ""
    summary: Summary | None = None  # the counts, once rendered

    @property
    def exit_code(self) -> int:
        from migrator.api import exit_code_of

        assert self.summary is not None, "render the migrations first"
        return exit_code_of(self.summary, self.config, lint=self.lint)

    complaint = None


def _only(migrations, revision_files):
    for migration in migrations:
        if Path(migration.source).resolve() in revision_files:
            yield migration
        elif (close := getattr(migration.statements, "close", None)) is not None:
            close()  # a spooled migration that is not reported


def classify(request: ClassifyRequest) -> ClassifyResult:
    """Check the inputs (errors raise now); the migrations are classified as the result is rendered."""
    from migrator import api
    from migrator.config import load_config
    from migrator.phases import Severity
    from migrator.rules import rules_base

    # a statement's sqlglot tree is freed once its report is made, but its parent links are cycles: the
    # cyclic GC frees them, and with the default thresholds it would also re-walk the live objects over and
    # over (~25% of a 10,000-statement run)
    gc.set_threshold(200_000, 30, 30)
    config = load_config(Path(request.config_path) if request.config_path else None)
    if request.fail_on is not None:
        config.fail_on = None if request.fail_on == "never" else Severity.parse(request.fail_on)
    if request.max_file_size is not None:
        from migrator.files import parse_size

        config.max_file_size = parse_size(request.max_file_size, "--max-file-size")
    paths, alembic_config = request.paths, request.alembic_config
    only_revisions = None
    if alembic_config and paths:
        if not all(p.endswith(".py") for p in paths):
            raise UsageError("give SQL paths or --alembic-config, not both (with --alembic-config, "
                             "paths are revision files: only those are reported)")
        only_revisions = {Path(p).resolve() for p in paths}  # e.g. the files a pre-commit hook passes
    if not paths and not alembic_config and config.alembic_config:
        base = config.source.parent if config.source else Path.cwd()
        alembic_config = str(base / config.alembic_config)
    if request.revision_range and not alembic_config:
        raise UsageError("--range needs --alembic-config (or alembic_config in [tool.migrator])")
    migrations: Iterator[MigrationReport]
    if alembic_config:
        migrations = api.iter_classify_alembic(alembic_config, request.revision_range, config=config)
        if only_revisions is not None:  # the whole history is still read: earlier revisions give context
            migrations = _only(migrations, only_revisions)
    elif paths:
        migrations = api.iter_classify_paths(paths, config=config)
    else:
        raise UsageError("nothing to classify: give SQL paths, - for stdin, or --alembic-config")
    if request.lint:
        migrations = api.check_each_declared(migrations, config)
    return ClassifyResult(migrations, config, lint=request.lint, verbose=request.verbose,
                          rules_url=rules_base(request.rules_url, config) or "")
