"""The `migrator` command: a thin typer layer over migrator.api.

Heavy modules (sqlglot, alembic, SQLAlchemy) are imported inside commands so
that `migrator --help` starts fast.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated, Optional

import typer

app = typer.Typer(
    name="migrator",
    help="Safe zero-downtime database releases: classify, prove and gate expand / migrate / contract.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


def _err(message: str) -> None:
    sys.stderr.write(f"migrator: {message}\n")


PathsArg = Annotated[Optional[list[str]], typer.Argument(help="SQL files, directories (sorted *.sql) or - for stdin.")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
FailOnOpt = Annotated[Optional[FailOn], typer.Option("--fail-on", help="Exit 1 on findings at or above this severity [default: error].")]
AlembicOpt = Annotated[Optional[str], typer.Option("--alembic-config", "-c", help="alembic.ini: classify its revisions.")]
RangeOpt = Annotated[Optional[str], typer.Option("--range", help="Revision range BASE:HEAD (alembic only).")]
ConfigOpt = Annotated[Optional[str], typer.Option("--config", help="pyproject.toml holding [tool.migrator].")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Also show info findings in text output.")]


def _run_classify(paths, fmt, fail_on, alembic_config, revision_range, config_path, verbose, lint: bool) -> int:
    from pathlib import Path

    from migrator import api
    from migrator.config import load_config
    from migrator.errors import MigratorError
    from migrator.phases import Severity
    from migrator.report import render

    try:
        config = load_config(Path(config_path) if config_path else None)
        if fail_on is not None:
            config.fail_on = None if fail_on is FailOn.never else Severity.parse(fail_on.value)
        if alembic_config and paths:
            raise api.UsageError("give SQL paths or --alembic-config, not both")
        if revision_range and not alembic_config:
            raise api.UsageError("--range needs --alembic-config")
        if alembic_config:
            report = api.classify_alembic(alembic_config, revision_range, config=config)
        elif paths:
            report = api.classify_paths(paths, config=config)
        else:
            raise api.UsageError("nothing to classify: give SQL paths, - for stdin, or --alembic-config")
        if lint:
            api.check_declared_phases(report, config)
    except MigratorError as exc:
        _err(str(exc))
        return 2
    sys.stdout.write(render(report, fmt.value, verbose=verbose))
    for m in report.migrations:
        if m.error:
            _err(m.error)
    return api.exit_code(report, config, lint=lint)


@app.command()
def classify(
    paths: PathsArg = None,
    fmt: FormatOpt = OutputFormat.text,
    fail_on: FailOnOpt = None,
    alembic_config: AlembicOpt = None,
    revision_range: RangeOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Classify each statement as expand, migrate, contract or none, with lock, rewrite and findings."""
    raise typer.Exit(_run_classify(paths, fmt, fail_on, alembic_config, revision_range, config, verbose, lint=False))


@app.command()
def lint(
    paths: PathsArg = None,
    fmt: FormatOpt = OutputFormat.text,
    fail_on: FailOnOpt = None,
    alembic_config: AlembicOpt = None,
    revision_range: RangeOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Pre-merge gate: classify, and fail (exit 1) on mixed migrations or a declared phase that disagrees."""
    raise typer.Exit(_run_classify(paths, fmt, fail_on, alembic_config, revision_range, config, verbose, lint=True))


@app.command()
def rules(fmt: FormatOpt = OutputFormat.text) -> None:
    """List every rule: id, name, phase, severity."""
    from migrator.rules.registry import all_rules

    if fmt is OutputFormat.json:
        import json

        data = [{"rule": r.id, "name": r.name, "phase": r.phase.label,
                 "severity": r.severity.label if r.severity else None} for r in all_rules()]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    for r in all_rules():
        sev = r.severity.label if r.severity else "-"
        sys.stdout.write(f"{r.id}  {r.name:<40} {r.phase.label:<9} {sev}\n")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
