"""The library API; the CLI only parses options, calls these and renders the result."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from migrator.config import Config
from migrator.classify.engine import classify_sql
from migrator.rules import SchemaKnowledge
from migrator.errors import InputError
from migrator.model import MigrationReport, Report, Summary
from migrator.phases import Phase


def classify(sql: str, dialect: str = "postgres", *, config: Config | None = None, source: str = "<sql>") -> Report:
    """Classify one migration's SQL text.

    >>> classify("ALTER TABLE users DROP COLUMN name;").migrations[0].phase.label
    'contract'
    """
    from migrator.classify.lint import apply_sql_declaration

    config = config or Config()
    if dialect not in ("postgres", "postgresql"):
        raise InputError(f"unsupported dialect {dialect!r} (supported: postgres)")
    migration = classify_sql(sql, source, config)
    apply_sql_declaration(migration, sql, config)
    return Report([migration])


def classify_paths(paths: list[str], *, config: Config | None = None) -> Report:
    """Classify SQL files, directories (sorted *.sql) and '-' (stdin); each file is one migration.

    A file that cannot be tokenized becomes a migration with `error` set (phase contract); a path that cannot
    be used (missing, unreadable, not a regular file, a symlink leading outside, too large, not UTF-8 text)
    raises InputError before anything is classified.
    """
    return Report(list(iter_classify_paths(paths, config=config, stream=False)))


def iter_classify_paths(paths: list[str], *, config: Config | None = None,
                        stream: bool = True) -> Iterator[MigrationReport]:
    """classify_paths(), one migration at a time: every path is checked (and read once) now, and each
    migration is classified when the iterator reaches it. With `stream`, a migration's statements are a
    StatementSpool (bounded memory; iterate it once it is classified) instead of a list."""
    from migrator.classify.engine import dispatch
    from migrator.classify.sources import expand_paths

    config = config or Config()
    sources = expand_paths(paths, config.max_file_size)
    dispatch()  # load the rules (a broken plug-in is an error now, not halfway through the output)

    def classify_each() -> Iterator[MigrationReport]:
        knowledge = SchemaKnowledge()  # files run in the order given: facts of earlier ones hold for later ones
        for src in sources:
            yield classify_source(src.read_text(), src.name, config, knowledge=knowledge, stream=stream)

    return classify_each()


def classify_source(text: str, name: str, config: Config, *, stream: bool = False, **kwargs) -> MigrationReport:
    """Classify one SQL file's text; a `-- migrator: phase <phase>` comment sets its declared phase."""
    from migrator.classify.engine import classify_stream
    from migrator.classify.lint import apply_sql_declaration

    try:
        migration = (classify_stream if stream else classify_sql)(text, name, config, **kwargs)
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
    return Report(list(iter_classify_alembic(alembic_config, revision_range, config=config)))


def iter_classify_alembic(alembic_config: str, revision_range: str | None = None, *,
                          config: Config | None = None) -> Iterator[MigrationReport]:
    """classify_alembic(), one revision at a time: loading and offline rendering happen now (their errors
    raise here), each revision is classified when the iterator reaches it."""
    from migrator.classify.alembic_source import iter_revisions
    from migrator.classify.engine import dispatch

    dispatch()
    return iter_revisions(alembic_config, revision_range, config or Config())


def check_each_declared(migrations: Iterable[MigrationReport], config: Config) -> Iterator[MigrationReport]:
    """`migrator lint`: check each migration's declared phase (P507) as it goes by."""
    from migrator.classify.lint import check_declared

    for migration in migrations:
        check_declared(migration, config)
        yield migration


def demo(*, config: Config | None = None) -> Report:
    """Classify the demo app's alembic revisions and check each against its declared phase.

    The demo is the `alembic.ini` in the current directory, else the one at the root of the
    repository migrator is installed from.
    """
    from migrator.classify.alembic_source import find_demo_config

    config = config or Config()
    report = classify_alembic(str(find_demo_config()), config=config)
    check_declared_phases(report, config)
    return report


def verdict(migration: MigrationReport) -> str:
    """`ok` when the migration classifies as it declares; else error, MISMATCH, MIXED or UNREADABLE."""
    from migrator.classify.lint import DECLARED, UNCLASSIFIED, unreadable
    from migrator.rules.p505_mixed_migration import MixedMigration

    found = {f.rule for f in migration.all_findings()}
    if migration.error:
        return "error"
    if DECLARED in found:
        return "MISMATCH"
    if migration.mixed and MixedMigration.id in found:
        return "MIXED"
    if unreadable(migration) and UNCLASSIFIED in found:
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
    from migrator.classify.lint import check_declared

    for migration in report.migrations:
        check_declared(migration, config)


def exit_code(report: Report, config: Config, *, lint: bool = False) -> int:
    """0 clean, 1 findings at or above fail_on (lint: also mixed or mismatched phases), 2 input errors."""
    return exit_code_of(Summary.of(report), config, lint=lint)


def exit_code_of(summary: Summary, config: Config, *, lint: bool = False) -> int:
    """exit_code() from the counts a streamed run added up."""
    if summary.errors:
        return 2
    threshold = config.fail_on
    if threshold is not None and summary.worst is not None and summary.worst >= threshold:
        return 1
    from migrator.classify.lint import LINT_FAILS

    if lint and summary.rules & LINT_FAILS:
        return 1
    return 0
