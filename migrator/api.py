"""The library API; the CLI only parses options, calls these and renders the result."""

from __future__ import annotations

from migrator.config import Config
from migrator.engine import classify_sql
from migrator.errors import InputError
from migrator.model import MigrationReport, Report
from migrator.phases import Phase


def classify(sql: str, dialect: str = "postgres", *, config: Config | None = None, source: str = "<sql>") -> Report:
    """Classify one migration's SQL text.

    >>> classify("ALTER TABLE users DROP COLUMN name;").migrations[0].phase.label
    'contract'
    """
    config = config or Config()
    if dialect not in ("postgres", "postgresql"):
        raise InputError(f"unsupported dialect {dialect!r} (supported: postgres)")
    return Report([classify_sql(sql, source, config)])


def classify_paths(paths: list[str], *, config: Config | None = None) -> Report:
    """Classify SQL files, directories (sorted *.sql) and '-' (stdin); each file is one migration.

    A file that cannot be read or tokenized becomes a migration with `error` set (phase contract).
    """
    from migrator.sources import expand_paths

    config = config or Config()
    report = Report()
    for src in expand_paths(paths):
        report.migrations.append(classify_source(src.text, src.name, config))
    return report


def classify_source(text: str, name: str, config: Config, **kwargs) -> MigrationReport:
    try:
        return classify_sql(text, name, config, **kwargs)
    except InputError as exc:
        return MigrationReport(source=name, phase=Phase.CONTRACT, error=str(exc))


from migrator.errors import UsageError  # noqa: E402  (re-exported for the CLI)
from migrator.phases import Severity  # noqa: E402


def classify_alembic(alembic_config: str, revision_range: str | None = None, *, config: Config | None = None) -> Report:
    """Render each alembic revision's upgrade() offline and classify it, one migration per revision."""
    from migrator.alembic_source import classify_revisions

    return classify_revisions(alembic_config, revision_range, config or Config())


def check_declared_phases(report: Report, config: Config) -> None:
    """Add a P507 finding to every migration whose declared phase disagrees with its classification."""
    from migrator.lint import check_declared

    for migration in report.migrations:
        check_declared(migration, config)


def exit_code(report: Report, config: Config, *, lint: bool = False) -> int:
    """0 clean, 1 findings at or above fail_on (lint: also mixed or mismatched phases), 2 input errors."""
    if any(m.error for m in report.migrations):
        return 2
    threshold = config.fail_on
    if threshold is not None and any(f.severity >= threshold for f in report.findings()):
        return 1
    if lint:
        for m in report.migrations:
            if any(f.rule in ("P505", "P507") for f in m.all_findings()):
                return 1
    return 0
