"""The library API; the CLI only parses options, calls these and renders the result."""

from __future__ import annotations

from migrator.config import Config
from migrator.engine import classify_sql
from migrator.rules._base import SchemaKnowledge
from migrator.errors import InputError
from migrator.model import MigrationReport, Report
from migrator.phases import Phase


def classify(sql: str, dialect: str = "postgres", *, config: Config | None = None, source: str = "<sql>") -> Report:
    """Classify one migration's SQL text.

    >>> classify("ALTER TABLE users DROP COLUMN name;").migrations[0].phase.label
    'contract'
    """
    from migrator.lint import apply_sql_declaration

    config = config or Config()
    if dialect not in ("postgres", "postgresql"):
        raise InputError(f"unsupported dialect {dialect!r} (supported: postgres)")
    migration = classify_sql(sql, source, config)
    apply_sql_declaration(migration, sql, config)
    return Report([migration])


def classify_paths(paths: list[str], *, config: Config | None = None) -> Report:
    """Classify SQL files, directories (sorted *.sql) and '-' (stdin); each file is one migration.

    A file that cannot be read or tokenized becomes a migration with `error` set (phase contract).
    """
    from migrator.sources import expand_paths

    config = config or Config()
    report = Report()
    knowledge = SchemaKnowledge()  # files run in the order given: facts of earlier ones hold for later ones
    for src in expand_paths(paths, config.max_file_size):
        report.migrations.append(classify_source(src.read_text(), src.name, config, knowledge=knowledge))
    return report


def classify_source(text: str, name: str, config: Config, **kwargs) -> MigrationReport:
    """Classify one SQL file's text; a `-- migrator: phase <phase>` comment sets its declared phase."""
    from migrator.lint import apply_sql_declaration

    try:
        migration = classify_sql(text, name, config, **kwargs)
    except InputError as exc:
        return MigrationReport(source=name, phase=Phase.CONTRACT, error=str(exc))
    apply_sql_declaration(migration, text, config)
    return migration


from migrator.errors import UsageError  # noqa: E402  (re-exported for the CLI)


def classify_alembic(alembic_config: str, revision_range: str | None = None, *, config: Config | None = None) -> Report:
    """Render each alembic revision's upgrade() offline and classify it, one migration per revision.

    `revision_range` is alembic's `BASE:HEAD` (BASE is the revision already applied, as in
    `alembic upgrade BASE:HEAD --sql`); either side may be left out, and a single revision id
    classifies that revision alone. No database is contacted.
    """
    from migrator.alembic_source import classify_revisions

    return classify_revisions(alembic_config, revision_range, config or Config())


def demo(*, config: Config | None = None) -> Report:
    """Classify the demo app's alembic revisions and check each against its declared phase.

    The demo is the `alembic.ini` in the current directory, else the one at the root of the
    repository migrator is installed from.
    """
    from migrator.alembic_source import find_demo_config

    config = config or Config()
    report = classify_alembic(str(find_demo_config()), config=config)
    check_declared_phases(report, config)
    return report


def verdict(migration: MigrationReport) -> str:
    """`ok` when the migration classifies as it declares; else error, MISMATCH, MIXED or UNREADABLE."""
    from migrator.lint import DECLARED, unreadable

    found = {f.rule for f in migration.all_findings()}
    if migration.error:
        return "error"
    if DECLARED in found:
        return "MISMATCH"
    if migration.mixed and "P505" in found:
        return "MIXED"
    if unreadable(migration) and "U000" in found:
        return "UNREADABLE"
    return "ok"


def phase_summary(report: Report) -> list[str]:
    """One line per migration: `0003 expand (declared expand) ok`."""
    lines = []
    for m in report.migrations:
        declared = f"declared {m.declared_phase.label}" if m.declared_phase is not None else "not declared"
        lines.append(f"{m.revision or m.source} {m.phase.label}{' (mixed)' if m.mixed else ''} ({declared}) "
                     f"{verdict(m)}")
    return lines


def demo_exit_code(report: Report) -> int:
    """0 when every migration classifies as it declares (not mixed, readable), else 1; 2 on input errors."""
    if any(m.error for m in report.migrations):
        return 2
    return 0 if all(verdict(m) == "ok" for m in report.migrations) else 1


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
