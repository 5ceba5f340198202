"""The `migrator` command: a thin typer layer over migrator.api.

Heavy modules (sqlglot, alembic, SQLAlchemy) are imported inside commands so
that `migrator --help` starts fast.
"""

from __future__ import annotations

import gc
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

app = typer.Typer(
    name="migrator",
    help="Safe zero-downtime database releases: classify, prove and gate expand / migrate / contract.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: brackets such as [tool.migrator] stay literal, and rich is not loaded
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
    from migrator.escape import escape_controls

    sys.stderr.write(f"migrator: {escape_controls(message)}\n")


def _version(value: bool) -> None:
    if value:
        from migrator import __version__

        sys.stdout.write(f"migrator {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Safe zero-downtime database releases: classify, prove and gate expand / migrate / contract."""


PathsArg = Annotated[Optional[list[str]], typer.Argument(help="SQL files, directories (sorted *.sql) or - for stdin; with --alembic-config, revision files to report.")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
FailOnOpt = Annotated[Optional[FailOn], typer.Option("--fail-on", help="Exit 1 on findings at or above this severity [default: error].")]
AlembicOpt = Annotated[Optional[str], typer.Option("--alembic-config", "-c", help="alembic.ini: classify its revisions.")]
RangeOpt = Annotated[Optional[str], typer.Option("--range", help="Revision range BASE:HEAD (alembic only).")]
ConfigOpt = Annotated[Optional[str], typer.Option("--config", help="pyproject.toml holding [tool.migrator].")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Also show info findings in text output.")]
RulesUrlOpt = Annotated[Optional[str], typer.Option("--rules-url", metavar="URL", help="Base URL of the rule pages linked from findings ('' for no links) [env: MIGRATOR_RULES_URL; default: rules_url of [tool.migrator], else the project's repository].")]
MaxSizeOpt = Annotated[Optional[str], typer.Option("--max-file-size", metavar="SIZE", help="Refuse an input larger than this, e.g. 64MiB [default: max_file_size of [tool.migrator], else 64 MiB].")]


def _only(migrations, revision_files):
    for migration in migrations:
        if Path(migration.source).resolve() in revision_files:
            yield migration
        elif (close := getattr(migration.statements, "close", None)) is not None:
            close()  # a spooled migration that is not reported


def _run_classify(paths, fmt, fail_on, alembic_config, revision_range, config_path, verbose, max_size,
                  lint: bool, rules_url: str | None = None) -> int:
    """Check the inputs, then classify and render migration by migration (bounded memory, output as it goes)."""
    from pathlib import Path

    from migrator import api
    from migrator.config import load_config
    from migrator.errors import MigratorError
    from migrator.phases import Severity
    from migrator.report import write_report

    # a statement's sqlglot tree is freed once its report is made, but its parent links are cycles: the
    # cyclic GC frees them, and with the default thresholds it would also re-walk the live objects over and
    # over (~25% of a 10,000-statement run)
    gc.set_threshold(200_000, 30, 30)
    try:
        config = load_config(Path(config_path) if config_path else None)
        if fail_on is not None:
            config.fail_on = None if fail_on is FailOn.never else Severity.parse(fail_on.value)
        if max_size is not None:
            from migrator.sources import parse_size

            config.max_file_size = parse_size(max_size, "--max-file-size")
        only_revisions = None
        if alembic_config and paths:
            if not all(p.endswith(".py") for p in paths):
                raise api.UsageError("give SQL paths or --alembic-config, not both (with --alembic-config, "
                                     "paths are revision files: only those are reported)")
            only_revisions = {Path(p).resolve() for p in paths}  # e.g. the files a pre-commit hook passes
        if not paths and not alembic_config and config.alembic_config:
            base = config.source.parent if config.source else Path.cwd()
            alembic_config = str(base / config.alembic_config)
        if revision_range and not alembic_config:
            raise api.UsageError("--range needs --alembic-config (or alembic_config in [tool.migrator])")
        if alembic_config:
            migrations = api.iter_classify_alembic(alembic_config, revision_range, config=config)
            if only_revisions is not None:  # the whole history is still read: earlier revisions give context
                migrations = _only(migrations, only_revisions)
        elif paths:
            migrations = api.iter_classify_paths(paths, config=config)
        else:
            raise api.UsageError("nothing to classify: give SQL paths, - for stdin, or --alembic-config")
        if lint:
            migrations = api.check_each_declared(migrations, config)
    except MigratorError as exc:
        _err(str(exc))
        return 2

    def written(migration) -> None:
        sys.stdout.flush()  # a CI log shows each migration as soon as it is classified
        close = getattr(migration.statements, "close", None)
        if close is not None:
            close()
        if migration.error:
            _err(migration.error)

    from migrator.rules import rules_base

    try:
        summary = write_report(migrations, fmt.value, sys.stdout, verbose=verbose, after_each=written,
                               rules_url=rules_base(rules_url, config) or "")
    except MigratorError as exc:
        _err(str(exc))
        return 2
    return api.exit_code_of(summary, config, lint=lint)


@app.command()
def classify(
    paths: PathsArg = None,
    fmt: FormatOpt = OutputFormat.text,
    fail_on: FailOnOpt = None,
    alembic_config: AlembicOpt = None,
    revision_range: RangeOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
    max_file_size: MaxSizeOpt = None,
    rules_url: RulesUrlOpt = None,
) -> None:
    """Classify each statement as expand, migrate, contract or none, with lock, rewrite and findings."""
    raise typer.Exit(_run_classify(paths, fmt, fail_on, alembic_config, revision_range, config, verbose,
                                   max_file_size, lint=False, rules_url=rules_url))


@app.command()
def lint(
    paths: PathsArg = None,
    fmt: FormatOpt = OutputFormat.text,
    fail_on: FailOnOpt = None,
    alembic_config: AlembicOpt = None,
    revision_range: RangeOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
    max_file_size: MaxSizeOpt = None,
    rules_url: RulesUrlOpt = None,
) -> None:
    """Pre-merge gate: classify, and fail (exit 1) on mixed migrations or a declared phase that disagrees."""
    raise typer.Exit(_run_classify(paths, fmt, fail_on, alembic_config, revision_range, config, verbose,
                                   max_file_size, lint=True, rules_url=rules_url))


@app.command()
def demo(
    fmt: FormatOpt = OutputFormat.text,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
    provider: Annotated[str, typer.Option("--provider", help="Where the throwaway PostgreSQL comes from: embedded|local|url|docker|auto.")] = "embedded",
    database_url: Annotated[Optional[str], typer.Option("--scratch-url", "--database-url", help="Server for --provider url [env: MIGRATOR_SCRATCH_URL].")] = None,
    classify_only: Annotated[bool, typer.Option("--classify-only", help="Only classify the demo's revisions.")] = False,
) -> None:
    """The whole story on the demo app: classify its release, then prove it with blue's own tests.

    1. classifies the demo's alembic revisions (migrations/) and checks each against its declared phase;
    2. `compat --full` on the good green release: blue and green pass on the expanded schema, green on the
       contracted one;
    3. `compat` on a broken green release (demo/broken_green/): blue's suite catches it.
    Exit 0 when the story goes as told.
    """
    from migrator.demo_cli import run_demo_command

    raise typer.Exit(run_demo_command(fmt.value, config, verbose, provider, database_url, classify_only))


class CompatFormat(str, Enum):
    text = "text"
    json = "json"


@app.command()
def compat(
    blue: Annotated[Optional[str], typer.Option("--blue", help="Git ref (tag, branch, sha) of the running version (required).")] = None,
    green: Annotated[Optional[str], typer.Option("--green", help="Git ref of the new version [default: the working tree].")] = None,
    project_dir: Annotated[str, typer.Option("--project-dir", help="The app's folder in the repository.")] = ".",
    suite: Annotated[Optional[str], typer.Option("--suite", help="The app's test suite, in each version's checkout [default: compat_tests].")] = None,
    python: Annotated[Optional[str], typer.Option("--python", help="The app's interpreter [default: [tool.migrator] python, $VIRTUAL_ENV, <project>/.venv, migrator's].")] = None,
    provider: Annotated[Optional[str], typer.Option("--provider", help="Where the throwaway PostgreSQL comes from: auto|url|embedded|local|docker.")] = None,
    scratch_url: Annotated[Optional[str], typer.Option("--scratch-url", "--database-url", help="Server for the url provider, never the release's target [env: MIGRATOR_SCRATCH_URL].")] = None,
    url_var: Annotated[Optional[str], typer.Option("--url-var", help="Variable that carries the URL [default: DATABASE_URL].")] = None,
    url_form: Annotated[Optional[str], typer.Option("--url-form", help="URL scheme, e.g. postgresql+psycopg or postgresql.")] = None,
    env_map: Annotated[Optional[list[str]], typer.Option("--env-map", help="KEY=TEMPLATE with {host} {port} {user} {password} {database} {url} (repeatable).")] = None,
    env: Annotated[Optional[list[str]], typer.Option("--env", help="KEY=VALUE for the suite and alembic (repeatable).")] = None,
    pytest_args: Annotated[Optional[list[str]], typer.Option("--pytest-args", help="Extra pytest arguments, e.g. '-k not slow' (repeatable; split like a shell).")] = None,
    evidence: Annotated[Optional[str], typer.Option("--evidence", help="Write the evidence JSON here.")] = None,
    full: Annotated[bool, typer.Option("--full", "--matrix", help="Also run green's suite on the contracted schema (what the contract gate needs).")] = False,
    no_attribution: Annotated[bool, typer.Option("--no-attribution", help="Do not re-run failing tests on their own schema.")] = False,
    serial: Annotated[bool, typer.Option("--serial", help="Run the cells one after the other, not side by side.")] = False,
    workers: Annotated[Optional[str], typer.Option("--workers", help="pytest-xdist workers per suite, each on its own database: N or auto [default: 1].")] = None,
    fmt: Annotated[CompatFormat, typer.Option("--format", "-f", help="Output format.")] = CompatFormat.text,
    alembic_config: AlembicOpt = None,
    prune_templates: Annotated[bool, typer.Option("--prune-templates", help="Drop the cached blue templates (migrator_tpl_*) on the --scratch-url server (with --blue: only that commit's), then exit.")] = False,
) -> None:
    """Run each version's own test suite on the schemas the release puts it on (blue and green on the expanded
    schema; green on the contracted one with --full) in a throwaway PostgreSQL."""
    from migrator.compat.cli_support import prune_templates_command, run_compat_command

    if prune_templates:
        raise typer.Exit(prune_templates_command(scratch_url, blue, project_dir, alembic_config))
    if blue is None:
        _err("compat: --blue REF is required (the git ref of the running version)")
        raise typer.Exit(2)

    given = {k for k, v in dict(suite=suite, python=python, provider=provider, url_var=url_var,
                                 url_form=url_form, alembic_ini=alembic_config, workers=workers).items() if v is not None}
    raise typer.Exit(run_compat_command(
        given, blue=blue, green=green, project_dir=project_dir, suite=suite, python=python, provider=provider,
        scratch_url=scratch_url, url_var=url_var, url_form=url_form, env=env or [], env_map=env_map or [],
        pytest_args=pytest_args or [], evidence=evidence, full=full, attribute=not no_attribution, serial=serial,
        workers=workers,
        fmt=fmt.value, alembic_ini=alembic_config))


class RulesFormat(str, Enum):
    text = "text"
    json = "json"


RulesFormatOpt = Annotated[RulesFormat, typer.Option("--format", "-f", help="Output format.")]


@app.command()
def rules(fmt: RulesFormatOpt = RulesFormat.text) -> None:
    """List every rule: id, name, phase, severity."""
    from migrator.rules.registry import all_rules

    if fmt is RulesFormat.json:
        import json

        data = [{"rule": r.id, "name": r.name, "phase": r.phase.label,
                 "severity": r.severity.label if r.severity else None} for r in all_rules()]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    for r in all_rules():
        sev = r.severity.label if r.severity else "-"
        sys.stdout.write(f"{r.id}  {r.name:<40} {r.phase.label:<9} {sev}\n")


@app.command("rule")
def rule_(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule id or name, e.g. C317 or drop-column.")],
    fmt: RulesFormatOpt = RulesFormat.text,
    config: ConfigOpt = None,
    rules_url: RulesUrlOpt = None,
) -> None:
    """Explain one rule: phase, severity, lock, why it matters, the safe alternative, examples and its page."""
    from pathlib import Path

    from migrator.config import load_config
    from migrator.errors import MigratorError
    from migrator.rules import explain, explain_text, rules_base
    from migrator.rules.registry import find_rule

    try:
        settings = load_config(Path(config) if config else None)
        found = find_rule(rule_id)
    except MigratorError as exc:
        _err(str(exc))
        raise typer.Exit(2)
    if found is None:
        _err(f"unknown rule {rule_id!r} (`migrator rules` lists them)")
        raise typer.Exit(2)
    info = explain(found, rules_base(rules_url, settings))
    if fmt is RulesFormat.json:
        import json

        sys.stdout.write(json.dumps(info, indent=2) + "\n")
    else:
        sys.stdout.write(explain_text(info))


# --- release: plan / expand / migrate / switch / rollback / contract / status ----------------------------------

class ReleaseFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


class PlanFailOn(str, Enum):
    error = "error"
    warning = "warning"


RELEASE = "Release (against the target database)"
DatabaseUrlOpt = Annotated[Optional[str], typer.Option("--database-url", help="Target database, SQLAlchemy-style URL [env: MIGRATOR_DATABASE_URL].")]
ProjectDirOpt = Annotated[str, typer.Option("--project-dir", help="Green's checkout: the folder holding alembic.ini.")]
ReleaseIdOpt = Annotated[Optional[str], typer.Option("--release", help="Release id [default: the release in flight].")]
WaitOpt = Annotated[float, typer.Option("--wait", metavar="SECONDS", help="Wait this long for another migrator command on the database to finish (0: exit 2 at once).")]
ReleaseAlembicOpt = Annotated[Optional[str], typer.Option("--alembic-config", "-c", help="alembic.ini in the project folder [default: alembic_config of [tool.migrator], else alembic.ini].")]
ReleaseFormatOpt = Annotated[ReleaseFormat, typer.Option("--format", "-f", help="Output format.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Go past a refusing gate (needs --reason; both go into the ledger).")]
ReasonOpt = Annotated[Optional[str], typer.Option("--reason", help="Why: recorded in the ledger (required with --force and --no-lock-timeout).")]
LockTimeoutOpt = Annotated[Optional[str], typer.Option("--lock-timeout", help="lock_timeout of every DDL session, e.g. 500ms (at least 1ms).")]
NoLockTimeoutOpt = Annotated[bool, typer.Option("--no-lock-timeout", help="Run the DDL without a lock timeout (waits forever; needs --reason, recorded in the ledger).")]
StatementTimeoutOpt = Annotated[Optional[str], typer.Option("--statement-timeout", help="statement_timeout of DDL sessions (0 = none).")]
LockRetriesOpt = Annotated[Optional[int], typer.Option("--lock-retries", help="Retries after a lock timeout, per revision.")]
SoakOpt = Annotated[Optional[str], typer.Option("--soak", help="Time on green before contract, e.g. 15m (0 allowed).")]
BlueAppOpt = Annotated[Optional[str], typer.Option("--blue-application-name", help="application_name of blue's sessions: contract waits until none is left.")]
LedgerSchemaOpt = Annotated[Optional[str], typer.Option("--ledger-schema", help="Schema of migrator's ledger [default: migrator].")]


def _run_release(command: str, fmt: ReleaseFormat, **values) -> int:
    """Options -> ReleaseContext -> commands.<command> -> render. Results on stdout, progress on stderr."""
    from pathlib import Path

    from migrator.compat.cli_support import log_to_stderr as _log_to_stderr
    from migrator.errors import MigratorError
    from migrator.release import commands
    from migrator.release.render import error_result, render

    _log_to_stderr()
    fail_on = values.pop("fail_on", None)
    ctx = _release_context(values)
    try:
        result = commands.run(command, ctx)
    except MigratorError as exc:
        code = getattr(exc, "exit_code", 2)
        _err(commands.scrub(exc, ctx.database_url))
        if fmt is ReleaseFormat.json:
            sys.stdout.write(commands.scrub_output(render(error_result(command, exc, code), "json"), ctx.database_url))
        return code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    sys.stdout.write(render(result, fmt.value))
    if result.get("exit_code"):  # status of a tampered ledger: shown, and exit 2
        _err(commands.scrub(result.get("message") or "", ctx.database_url))
        return int(result["exit_code"])
    if fail_on is not None and result.get("plan"):
        from migrator.release.plan import findings_at

        found = findings_at(result["plan"], fail_on.value)
        if found:
            rules = ", ".join(sorted({f["rule"] for f in found}))
            _err(f"plan: {len(found)} finding{'s' if len(found) > 1 else ''} at or above {fail_on.value} "
                 f"({rules}): exit 1 (--fail-on {fail_on.value})")
            return 1
    return 0


def _release_context(values: dict):
    """The release commands' options -> ReleaseContext (the settings flags become overrides)."""
    from migrator.release import commands

    overrides = {k: values.pop(k, None) for k in ("lock_timeout", "statement_timeout", "lock_retries", "soak",
                                                   "blue_application_name", "ledger_schema", "no_lock_timeout")}
    evidence = values.pop("evidence", None)
    config = values.pop("config", None)
    return commands.ReleaseContext(
        project_dir=Path(values.pop("project_dir", ".")), config_path=Path(config) if config else None,
        overrides={k: v for k, v in overrides.items() if v is not None},
        evidence=Path(evidence) if evidence else None, **values)


@app.command(rich_help_panel=RELEASE)
def plan(
    blue: Annotated[Optional[str], typer.Option("--blue", help="Git ref of the version production runs [default: green of the last contracted release].")] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Only show the plan (e.g. for a PR comment): write nothing.")] = False,
    database_url: DatabaseUrlOpt = None,
    project_dir: ProjectDirOpt = ".",
    alembic_config: ReleaseAlembicOpt = None,
    config: ConfigOpt = None,
    release: ReleaseIdOpt = None,
    wait: WaitOpt = 0.0,
    fmt: ReleaseFormatOpt = ReleaseFormat.text,
    lock_timeout: LockTimeoutOpt = None,
    statement_timeout: StatementTimeoutOpt = None,
    lock_retries: LockRetriesOpt = None,
    soak: SoakOpt = None,
    blue_application_name: BlueAppOpt = None,
    ledger_schema: LedgerSchemaOpt = None,
    fail_on: Annotated[Optional[PlanFailOn], typer.Option("--fail-on", help="Exit 1 when the plan has findings at or above this severity (failing preflight counts are errors) [default: never].")] = None,
) -> None:
    """Plan green's release against the live database and record it as planned: per phase each statement with
    lock, table, estimated rows, rewrite and risk, and the gates ahead (markdown: the DBA's PR comment)."""
    raise typer.Exit(_run_release(
        "plan", fmt, blue=blue, record=not no_record, database_url=database_url, project_dir=project_dir,
        alembic_ini=alembic_config, config=config, release_id=release, wait=wait, lock_timeout=lock_timeout,
        statement_timeout=statement_timeout, lock_retries=lock_retries, soak=soak,
        blue_application_name=blue_application_name, ledger_schema=ledger_schema, fail_on=fail_on))


def _phase_command(command: str):
    def run_phase(
        database_url: DatabaseUrlOpt = None,
        project_dir: ProjectDirOpt = ".",
        alembic_config: ReleaseAlembicOpt = None,
        config: ConfigOpt = None,
        release: ReleaseIdOpt = None,
        wait: WaitOpt = 0.0,
        fmt: ReleaseFormatOpt = ReleaseFormat.text,
        lock_timeout: LockTimeoutOpt = None,
        statement_timeout: StatementTimeoutOpt = None,
        lock_retries: LockRetriesOpt = None,
        no_lock_timeout: NoLockTimeoutOpt = False,
        reason: ReasonOpt = None,
        ledger_schema: LedgerSchemaOpt = None,
    ) -> None:
        raise typer.Exit(_run_release(
            command, fmt, database_url=database_url, project_dir=project_dir, alembic_ini=alembic_config,
            config=config, release_id=release, wait=wait, lock_timeout=lock_timeout,
            statement_timeout=statement_timeout, lock_retries=lock_retries, no_lock_timeout=no_lock_timeout or None,
            reason=reason, ledger_schema=ledger_schema))

    run_phase.__name__ = command
    return run_phase


EvidenceOpt = Annotated[Optional[str], typer.Option("--evidence", help="Evidence JSON of `migrator compat --evidence FILE`.")]


@app.command(rich_help_panel=RELEASE)
def expand(
    evidence: EvidenceOpt = None,
    force: ForceOpt = False,
    reason: ReasonOpt = None,
    database_url: DatabaseUrlOpt = None,
    project_dir: ProjectDirOpt = ".",
    alembic_config: ReleaseAlembicOpt = None,
    config: ConfigOpt = None,
    release: ReleaseIdOpt = None,
    wait: WaitOpt = 0.0,
    fmt: ReleaseFormatOpt = ReleaseFormat.text,
    lock_timeout: LockTimeoutOpt = None,
    statement_timeout: StatementTimeoutOpt = None,
    lock_retries: LockRetriesOpt = None,
    no_lock_timeout: NoLockTimeoutOpt = False,
    ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """After the expand gate (blue's suite passed on the expanded schema; the live schema is blue's), apply the
    release's expand revisions (each in its own transaction, lock_timeout + retries)."""
    raise typer.Exit(_run_release(
        "expand", fmt, evidence=evidence, force=force, reason=reason, database_url=database_url,
        project_dir=project_dir, alembic_ini=alembic_config, config=config, release_id=release, wait=wait,
        lock_timeout=lock_timeout, statement_timeout=statement_timeout, lock_retries=lock_retries,
        no_lock_timeout=no_lock_timeout or None, ledger_schema=ledger_schema))


app.command("migrate", rich_help_panel=RELEASE,
            help="Apply the release's migrate revisions (data changes; batched, resumable backfills).")(
    _phase_command("migrate"))


@app.command(rich_help_panel=RELEASE)
def switch(
    to: Annotated[str, typer.Option("--to", help="The colour to send traffic to (green; back to blue is `rollback`).")] = "green",
    evidence: EvidenceOpt = None,
    force: ForceOpt = False,
    reason: ReasonOpt = None,
    database_url: DatabaseUrlOpt = None,
    project_dir: ProjectDirOpt = ".",
    alembic_config: ReleaseAlembicOpt = None,
    config: ConfigOpt = None,
    release: ReleaseIdOpt = None,
    wait: WaitOpt = 0.0,
    fmt: ReleaseFormatOpt = ReleaseFormat.text,
    ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """Move traffic to green through the router hook, after the switch gate: expand and migrate done, passing
    compat evidence for the live schema and this release's commits, the hook's pre-switch check."""
    raise typer.Exit(_run_release(
        "switch", fmt, to_color=to, evidence=evidence, force=force, reason=reason, database_url=database_url,
        project_dir=project_dir, alembic_ini=alembic_config, config=config, release_id=release, wait=wait,
        ledger_schema=ledger_schema))


@app.command(rich_help_panel=RELEASE)
def rollback(
    reason: ReasonOpt = None,
    database_url: DatabaseUrlOpt = None,
    project_dir: ProjectDirOpt = ".",
    alembic_config: ReleaseAlembicOpt = None,
    config: ConfigOpt = None,
    release: ReleaseIdOpt = None,
    wait: WaitOpt = 0.0,
    fmt: ReleaseFormatOpt = ReleaseFormat.text,
    ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """Send traffic back to blue (only before contract; applied revisions stay)."""
    raise typer.Exit(_run_release(
        "rollback", fmt, reason=reason, database_url=database_url, project_dir=project_dir,
        alembic_ini=alembic_config, config=config, release_id=release, wait=wait, ledger_schema=ledger_schema))


@app.command(rich_help_panel=RELEASE)
def contract(
    evidence: Annotated[Optional[str], typer.Option("--evidence", help="Evidence JSON of `migrator compat --full` [default: the evidence recorded at the switch].")] = None,
    force: ForceOpt = False,
    reason: ReasonOpt = None,
    database_url: DatabaseUrlOpt = None,
    project_dir: ProjectDirOpt = ".",
    alembic_config: ReleaseAlembicOpt = None,
    config: ConfigOpt = None,
    release: ReleaseIdOpt = None,
    wait: WaitOpt = 0.0,
    fmt: ReleaseFormatOpt = ReleaseFormat.text,
    lock_timeout: LockTimeoutOpt = None,
    statement_timeout: StatementTimeoutOpt = None,
    lock_retries: LockRetriesOpt = None,
    soak: SoakOpt = None,
    blue_application_name: BlueAppOpt = None,
    no_lock_timeout: NoLockTimeoutOpt = False,
    ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """After the contract gate (green's suite passed on the contracted schema, traffic on green, soak time, no
    rollback, no blue sessions), apply the contract revisions: blue's schema goes, and rollback with it."""
    raise typer.Exit(_run_release(
        "contract", fmt, evidence=evidence, force=force, reason=reason, database_url=database_url, project_dir=project_dir,
        alembic_ini=alembic_config, config=config, release_id=release, wait=wait, lock_timeout=lock_timeout,
        statement_timeout=statement_timeout, lock_retries=lock_retries, soak=soak,
        blue_application_name=blue_application_name, no_lock_timeout=no_lock_timeout or None,
        ledger_schema=ledger_schema))


@app.command(rich_help_panel=RELEASE)
def status(
    evidence: Annotated[Optional[str], typer.Option("--evidence", help="Also evaluate the next gate (expand, switch or contract) with this evidence file.")] = None,
    database_url: DatabaseUrlOpt = None,
    project_dir: ProjectDirOpt = ".",
    alembic_config: ReleaseAlembicOpt = None,
    config: ConfigOpt = None,
    release: ReleaseIdOpt = None,
    fmt: ReleaseFormatOpt = ReleaseFormat.text,
    soak: SoakOpt = None,
    blue_application_name: BlueAppOpt = None,
    ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """The release's state, evidence, gates (evaluated, not enforced), recent events and the next command."""
    raise typer.Exit(_run_release(
        "status", fmt, evidence=evidence, database_url=database_url, project_dir=project_dir,
        alembic_ini=alembic_config, config=config, release_id=release, soak=soak,
        blue_application_name=blue_application_name, ledger_schema=ledger_schema))


# --- gate / serve: the switch and contract gates for progressive-delivery engines ------------------------------

class GateName(str, Enum):
    switch = "switch"
    contract = "contract"


class GateFormat(str, Enum):
    text = "text"
    json = "json"


GateEvidenceOpt = Annotated[Optional[str], typer.Option("--evidence", help="Evidence JSON of `migrator compat` (switch: required; contract: default the evidence recorded at the switch).")]


@app.command(rich_help_panel=RELEASE)
def gate(
    name: Annotated[GateName, typer.Argument(metavar="GATE", help="The gate: switch or contract.", show_default=False)],
    evidence: GateEvidenceOpt = None,
    database_url: DatabaseUrlOpt = None,
    project_dir: ProjectDirOpt = ".",
    alembic_config: ReleaseAlembicOpt = None,
    config: ConfigOpt = None,
    release: ReleaseIdOpt = None,
    fmt: Annotated[GateFormat, typer.Option("--format", "-f", help="Output format.")] = GateFormat.text,
    soak: SoakOpt = None,
    blue_application_name: BlueAppOpt = None,
    ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """Evaluate the switch or contract gate without acting, as `migrator switch|contract` would decide now: exit 0
    pass, 1 refused, 2 error (an Argo Rollouts Job analysis, any CI step). Reads only; records nothing."""
    from migrator.compat.cli_support import log_to_stderr as _log_to_stderr
    from migrator.errors import MigratorError
    from migrator.release import commands
    from migrator.release.render import error_result, render
    from migrator.release.verdict import gate_command, render_text

    _log_to_stderr()
    ctx = _release_context(dict(
        evidence=evidence, database_url=database_url, project_dir=project_dir, alembic_ini=alembic_config,
        config=config, release_id=release, soak=soak, blue_application_name=blue_application_name,
        ledger_schema=ledger_schema))
    try:
        result = gate_command(ctx, name.value)
    except MigratorError as exc:
        code = getattr(exc, "exit_code", 2)
        _err(commands.scrub(exc, ctx.database_url))
        if fmt is GateFormat.json:
            error = {**error_result("gate", exc, code), "gate": name.value, "passed": False, "checks": []}
            sys.stdout.write(commands.scrub_output(render(error, "json"), ctx.database_url))
        raise typer.Exit(code)
    sys.stdout.write(render(result, "json") if fmt is GateFormat.json else render_text(result))
    if not result["passed"]:
        _err(commands.scrub(f"{name.value} gate refused: " + "; ".join(result["reasons"]), ctx.database_url))
    raise typer.Exit(0 if result["passed"] else 1)


@app.command(rich_help_panel=RELEASE)
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port, logged at start).", min=0, max=65535)] = 8080,
    token_env: Annotated[Optional[str], typer.Option("--token-env", metavar="NAME", help="Environment variable holding the bearer token [default: MIGRATOR_SERVE_TOKEN].")] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Serve without a token (only where untrusted clients cannot reach it).")] = False,
    evidence: Annotated[Optional[str], typer.Option("--evidence", help="Evidence JSON the gates read (re-read on every request); without it the switch gate refuses.")] = None,
    database_url: DatabaseUrlOpt = None,
    project_dir: ProjectDirOpt = ".",
    alembic_config: ReleaseAlembicOpt = None,
    config: ConfigOpt = None,
    soak: SoakOpt = None,
    blue_application_name: BlueAppOpt = None,
    ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """A read-only HTTP server of the switch and contract gates for Argo Rollouts (GET .../gates/{switch,contract}:
    200 with "passed") and Flagger (POST .../confirm: 200 or 409), and /v1/healthz. Logs on stderr."""
    from migrator.compat.cli_support import log_to_stderr as _log_to_stderr
    from migrator.errors import MigratorError
    from migrator.release import commands
    from migrator.serve import ServeOptions, serve as run_server, token_from_env

    _log_to_stderr()
    ctx = _release_context(dict(
        evidence=evidence, database_url=database_url, project_dir=project_dir, alembic_ini=alembic_config,
        config=config, soak=soak, blue_application_name=blue_application_name, ledger_schema=ledger_schema))
    try:
        options = ServeOptions(host=host, port=port, token=token_from_env(token_env, no_auth))
        code = run_server(ctx, options)
    except MigratorError as exc:
        _err(commands.scrub(exc, ctx.database_url))
        raise typer.Exit(getattr(exc, "exit_code", 2))
    raise typer.Exit(code)


# --- fleet: one release across many databases ---------------------------------------------------------------

fleet_app = typer.Typer(help="One release across a fleet of databases ([tool.migrator.fleet]): waves, a concurrency "
                             "limit, shards; each database keeps its own ledger.",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(fleet_app, name="fleet", rich_help_panel=RELEASE)


class FleetFormat(str, Enum):
    text = "text"
    json = "json"


ShardOpt = Annotated[Optional[str], typer.Option("--shard", metavar="I/N", help="Only this stable slice of the fleet (hash of each database's host:port/dbname); auto/N takes I from $JOB_COMPLETION_INDEX.")]
ConcurrencyOpt = Annotated[Optional[int], typer.Option("--concurrency", help="Databases at a time [default: concurrency of [tool.migrator.fleet], else 8].")]
WavesOpt = Annotated[Optional[str], typer.Option("--waves", metavar="P1,P2,...", help="Cumulative percentages of the fleet after the canary, the last 100 [default: waves of [tool.migrator.fleet], else 10,50,100].")]
CanaryOpt = Annotated[Optional[str], typer.Option("--canary", help="A count, or one database (URL, host:port/dbname, dbname) [default: the first].")]
WaveWaitOpt = Annotated[float, typer.Option("--wave-wait", metavar="SECONDS", help="Sharded: wait this long for the earlier waves' databases of other shards (0: exit 1 at once).")]
FleetFormatOpt = Annotated[FleetFormat, typer.Option("--format", "-f", help="Output format.")]


def _run_fleet(command: str, fmt: FleetFormat, fleet: dict, **values) -> int:
    """Options -> migrator.fleet.commands -> render. Results on stdout; progress and the one-line error on stderr."""
    from migrator.compat.cli_support import log_to_stderr as _log_to_stderr
    from migrator.errors import MigratorError
    from migrator.fleet.commands import FleetOptions, run
    from migrator.fleet.render import render
    from migrator.release import commands

    _log_to_stderr()
    overrides = {k: values.pop(k, None) for k in ("lock_timeout", "statement_timeout", "lock_retries", "soak",
                                                   "ledger_schema", "no_lock_timeout")}
    evidence = values.pop("evidence", None)
    config = values.pop("config", None)
    template = commands.ReleaseContext(
        project_dir=Path(values.pop("project_dir", ".")), config_path=Path(config) if config else None,
        overrides={k: v for k, v in overrides.items() if v is not None},
        evidence=Path(evidence) if evidence else None, **values)
    try:
        result, code = run(FleetOptions(command, template, **fleet))
    except MigratorError as exc:
        code = getattr(exc, "exit_code", 2)
        _err(_one_line(exc))
        if fmt is FleetFormat.json:
            import json

            sys.stdout.write(json.dumps({"command": f"fleet {command}", "result": "refused" if code == 1 else "error",
                                         "exit_code": code, "message": _one_line(exc)}, indent=2) + "\n")
        return code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    sys.stdout.write(render(result, fmt.value))
    if code:
        _err(_one_line(result.get("message") or ""))
    return code


def _fleet_opts(shard, concurrency, waves, canary, wave_wait, **extra) -> dict:
    return {"shard": shard, "concurrency": concurrency, "waves": waves, "canary": canary, "wave_wait": wave_wait,
            **extra}


@fleet_app.command("plan")
def fleet_plan(
    blue: Annotated[Optional[str], typer.Option("--blue", help="Git ref of the version production runs.")] = None,
    shard: ShardOpt = None, concurrency: ConcurrencyOpt = None, waves: WavesOpt = None, canary: CanaryOpt = None,
    wave_wait: WaveWaitOpt = 0.0,
    project_dir: ProjectDirOpt = ".", alembic_config: ReleaseAlembicOpt = None, config: ConfigOpt = None,
    release: ReleaseIdOpt = None, wait: WaitOpt = 0.0, fmt: FleetFormatOpt = FleetFormat.text,
    ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """Plan green's release on every database and record it (the canary's release id is every database's)."""
    raise typer.Exit(_run_fleet("plan", fmt, _fleet_opts(shard, concurrency, waves, canary, wave_wait), blue=blue,
                                project_dir=project_dir, alembic_ini=alembic_config, config=config,
                                release_id=release, wait=wait, ledger_schema=ledger_schema))


def _fleet_phase(command: str, doc: str):
    def run_phase(
        evidence: EvidenceOpt = None,
        force: ForceOpt = False, reason: ReasonOpt = None,
        shard: ShardOpt = None, concurrency: ConcurrencyOpt = None, waves: WavesOpt = None, canary: CanaryOpt = None,
        wave_wait: WaveWaitOpt = 0.0,
        project_dir: ProjectDirOpt = ".", alembic_config: ReleaseAlembicOpt = None, config: ConfigOpt = None,
        release: ReleaseIdOpt = None, wait: WaitOpt = 0.0, fmt: FleetFormatOpt = FleetFormat.text,
        lock_timeout: LockTimeoutOpt = None, statement_timeout: StatementTimeoutOpt = None,
        lock_retries: LockRetriesOpt = None, no_lock_timeout: NoLockTimeoutOpt = False,
        ledger_schema: LedgerSchemaOpt = None,
    ) -> None:
        if command == "migrate" and (evidence or force):
            _err("fleet migrate takes no --evidence or --force (migrate has no gate)")
            raise typer.Exit(2)
        raise typer.Exit(_run_fleet(
            command, fmt, _fleet_opts(shard, concurrency, waves, canary, wave_wait), evidence=evidence, force=force,
            reason=reason, project_dir=project_dir, alembic_ini=alembic_config, config=config, release_id=release,
            wait=wait, lock_timeout=lock_timeout, statement_timeout=statement_timeout, lock_retries=lock_retries,
            no_lock_timeout=no_lock_timeout or None, ledger_schema=ledger_schema))

    run_phase.__name__ = f"fleet_{command}"
    run_phase.__doc__ = doc
    return run_phase


fleet_app.command("expand")(_fleet_phase(
    "expand", "The expand gate and revisions on every database, canary first, wave by wave."))
fleet_app.command("migrate")(_fleet_phase(
    "migrate", "The migrate revisions on every database, canary first, wave by wave."))


@fleet_app.command("contract")
def fleet_contract(
    after_switch: Annotated[bool, typer.Option("--after-switch", help="Acknowledge the one router switch recorded on the canary (`migrator switch` against it) for the other databases.")] = False,
    evidence: Annotated[Optional[str], typer.Option("--evidence", help="Evidence JSON of `migrator compat --full` [default: the evidence recorded at the switch].")] = None,
    force: ForceOpt = False, reason: ReasonOpt = None,
    shard: ShardOpt = None, concurrency: ConcurrencyOpt = None, waves: WavesOpt = None, canary: CanaryOpt = None,
    wave_wait: WaveWaitOpt = 0.0,
    project_dir: ProjectDirOpt = ".", alembic_config: ReleaseAlembicOpt = None, config: ConfigOpt = None,
    release: ReleaseIdOpt = None, wait: WaitOpt = 0.0, fmt: FleetFormatOpt = FleetFormat.text,
    lock_timeout: LockTimeoutOpt = None, statement_timeout: StatementTimeoutOpt = None,
    lock_retries: LockRetriesOpt = None, soak: SoakOpt = None, no_lock_timeout: NoLockTimeoutOpt = False,
    ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """Contract every database after the one router switch: the canary's own contract gate first (soak since the
    switch), then each database's (with --after-switch: the switch acknowledged in its ledger, no router call)."""
    raise typer.Exit(_run_fleet(
        "contract", fmt, _fleet_opts(shard, concurrency, waves, canary, wave_wait, after_switch=after_switch),
        evidence=evidence, force=force, reason=reason, project_dir=project_dir, alembic_ini=alembic_config,
        config=config, release_id=release, wait=wait, lock_timeout=lock_timeout, statement_timeout=statement_timeout,
        lock_retries=lock_retries, soak=soak, no_lock_timeout=no_lock_timeout or None, ledger_schema=ledger_schema))


@fleet_app.command("status")
def fleet_status(
    shard: ShardOpt = None, concurrency: ConcurrencyOpt = None, waves: WavesOpt = None, canary: CanaryOpt = None,
    project_dir: ProjectDirOpt = ".", config: ConfigOpt = None, release: ReleaseIdOpt = None,
    fmt: FleetFormatOpt = FleetFormat.text, ledger_schema: LedgerSchemaOpt = None,
) -> None:
    """Every ledger read (no lock, nothing written): per-wave and per-database state with counts, and whether the
    whole fleet is migrated (the one `migrator switch` can run)."""
    raise typer.Exit(_run_fleet("status", fmt, _fleet_opts(shard, concurrency, waves, canary, 0.0),
                                project_dir=project_dir, config=config, release_id=release,
                                ledger_schema=ledger_schema))


# --- router: check ---------------------------------------------------------------------------------------------

router_app = typer.Typer(help="The router hook ([tool.migrator.hook]): ask it which colour is live.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(router_app, name="router", rich_help_panel=RELEASE)


class CheckFormat(str, Enum):
    text = "text"
    json = "json"


@router_app.command("check")
def router_check(
    expect: Annotated[Optional[str], typer.Option("--expect", help="Exit 1 unless this colour (blue|green) is live.")] = None,
    project_dir: ProjectDirOpt = ".",
    config: ConfigOpt = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", "-f", help="Output format.")] = CheckFormat.text,
) -> None:
    """Ask the router which colour is live (current only: nothing moves, nothing is recorded). Exit 0 when it
    answers, 1 when it serves another colour than --expect, 2 when the router cannot be asked."""
    from migrator.errors import MigratorError
    from migrator.hooks.check import render, router_check as check

    try:
        code, result = check(config, project_dir, expect)
    except MigratorError as exc:
        _err(_one_line(exc))
        raise typer.Exit(2)
    out, err = render(code, result, fmt.value)
    sys.stdout.write(out)
    sys.stderr.write(err)
    raise typer.Exit(code)


def _one_line(text: str | BaseException) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> None:
    """Console entry point: exit 0/1/2 and, on any error, one line on stderr starting `migrator:`."""
    click_exceptions: Any  # typer's vendored click or click itself: the same classes under two names
    try:
        from typer._click import exceptions as click_exceptions  # typer >= 0.20 vendors click
    except ImportError:  # pragma: no cover - older typer runs on click itself
        # ignore: mypy checks with typer >= 0.20 installed, and click is not installed beside it
        from click import exceptions as click_exceptions  # type: ignore[import-not-found,no-redef]
    ClickException = click_exceptions.ClickException
    NoArgsIsHelpError = getattr(click_exceptions, "NoArgsIsHelpError", ())

    try:
        code = app(args=argv, prog_name="migrator", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # bare `migrator`: show the help
        sys.stdout.write(exc.format_message() + "\n")
        code = 2
    except ClickException as exc:  # typer/click usage errors: bad option, bad value, missing argument
        hint = f" (see '{exc.ctx.command_path} --help')" if getattr(exc, "ctx", None) is not None else ""
        _err(_one_line(exc.format_message()) + hint)
        code = 2
    except (KeyboardInterrupt, typer.Abort):
        _err("interrupted")
        code = 130
    except BrokenPipeError:  # `migrator classify ... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    except RecursionError:
        _err("input nested too deeply to analyse")
        code = 2
    except Exception as exc:  # a bug: one line, unless MIGRATOR_DEBUG asks for the traceback
        if os.environ.get("MIGRATOR_DEBUG"):
            raise
        _err(f"internal error: {type(exc).__name__}: {_one_line(exc)[:300]} (set MIGRATOR_DEBUG=1 for the traceback)")
        code = 2
    # Everything left is about to be thrown away: freezing it spares the interpreter's final garbage
    # collection, which walks every remaining object (~0.5 s CPU after a 10,000-statement file).
    gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # python -m migrator.cli
    main()
