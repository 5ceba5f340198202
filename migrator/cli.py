"""The `migrator` command: the typer face of migrator.commands.

Each command parses its options, builds the command's request, calls it through _run() (the one place that renders
results, through migrator.commands.render, and maps errors to exit codes) and exits. The options the release
commands share are declared once (migrator.commands.options.ReleaseOptions, added by @release_options).
Heavy modules (sqlglot, alembic, SQLAlchemy) are imported inside commands so that `migrator --help` starts fast.
"""

from __future__ import annotations

import functools
import gc
import inspect
import os
import sys
import typing
from collections.abc import Callable
from dataclasses import fields
from enum import Enum
from typing import Annotated, Any, NoReturn, Optional

import typer

from migrator.commands.options import ReleaseOptions

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


class TextOrJson(str, Enum):
    text = "text"
    json = "json"


class ReleaseFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


class PlanFailOn(str, Enum):
    error = "error"
    warning = "warning"


class GateName(str, Enum):
    switch = "switch"
    contract = "contract"


def _err(message: str) -> None:
    from migrator.escape import escape_controls

    sys.stderr.write(f"migrator: {escape_controls(message)}\n")


def _log_to_stderr() -> None:
    """Progress of the commands that talk to databases, routers and test suites: `migrator: ...` on stderr."""
    import logging

    root = logging.getLogger("migrator")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("migrator: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def _scrub(text: str | BaseException, url: str | None) -> str:
    """One line, with the target database's password hidden (given or from $MIGRATOR_DATABASE_URL)."""
    from migrator.db.urls import scrub

    return _one_line(scrub(str(text), url, os.environ.get("MIGRATOR_DATABASE_URL")))


def _run(command: str, call: Callable[[], Any], fmt: str, *, url: str | None = None, errors: str | None = None,
         error_fields: dict | None = None, logs: bool = False) -> NoReturn:
    """Call a command, render its result on stdout, and exit: the one place that maps errors to exit codes.

    A MigratorError exits with its exit_code and one line on stderr (with --format json, the release and fleet
    commands also print the error as a document: `errors`); Ctrl-C 130; SIGTERM 128 + 15. A result exits with
    its exit_code, after its complaint (why not 0) on stderr. `url`: the password to hide in every message."""
    from migrator.commands.render import render, render_error
    from migrator.errors import MigratorError
    from migrator.provision.errors import SignalExit

    if logs:
        _log_to_stderr()
    try:
        result = call()
        render(result, fmt, sys.stdout)
    except MigratorError as exc:
        code = int(getattr(exc, "exit_code", 2))
        _err(_scrub(exc, url))
        document = render_error(errors, fmt, command, exc, code, error_fields)
        if document:
            from migrator.db.urls import scrub

            sys.stdout.write(scrub(document, url) if url else document)
        raise typer.Exit(code)
    except KeyboardInterrupt:  # what was under way cleaned up on its way out
        _err("interrupted")
        raise typer.Exit(130)
    except SignalExit as exc:  # SIGTERM, turned into an exception so that everything was cleaned up
        import signal

        _err(f"terminated by {signal.Signals(exc.signum).name}")
        raise typer.Exit(128 + exc.signum)
    if result.complaint:
        _err(_scrub(result.complaint, url))
    raise typer.Exit(int(result.exit_code or 0))


def release_options(*groups: str, without: tuple[str, ...] = ()):
    """Give a command the shared release options of `groups` (the fields of ReleaseOptions, with their flags and
    help), passed to it as one ReleaseOptions in `opts`."""
    hints = typing.get_type_hints(ReleaseOptions)
    chosen = [f for f in fields(ReleaseOptions) if f.metadata.get("group") in groups and f.name not in without]

    def decorate(func):
        own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "opts"]
        added = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                   annotation=Annotated[hints[f.name], typer.Option(
                                       *f.metadata["flags"], help=f.metadata["help"], metavar=f.metadata["metavar"])])
                 for f in chosen]

        @functools.wraps(func)
        def command(**values):
            opts = ReleaseOptions(**{f.name: values.pop(f.name) for f in chosen})
            return func(opts=opts, **values)

        command.__signature__ = inspect.Signature(own + added)  # type: ignore[attr-defined]
        command.__annotations__ = {}  # typer reads the signature above
        return command

    return decorate


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
TextOrJsonOpt = Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")]
ReleaseFormatOpt = Annotated[ReleaseFormat, typer.Option("--format", "-f", help="Output format.")]
FailOnOpt = Annotated[Optional[FailOn], typer.Option("--fail-on", help="Exit 1 on findings at or above this severity [default: error].")]
AlembicOpt = Annotated[Optional[str], typer.Option("--alembic-config", "-c", help="alembic.ini: classify its revisions.")]
RangeOpt = Annotated[Optional[str], typer.Option("--range", help="Revision range BASE:HEAD (alembic only).")]
ConfigOpt = Annotated[Optional[str], typer.Option("--config", help="pyproject.toml holding [tool.migrator].")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Also show info findings in text output.")]
RulesUrlOpt = Annotated[Optional[str], typer.Option("--rules-url", metavar="URL", help="Base URL of the rule pages linked from findings ('' for no links) [env: MIGRATOR_RULES_URL; default: rules_url of [tool.migrator], else the project's repository].")]
MaxSizeOpt = Annotated[Optional[str], typer.Option("--max-file-size", metavar="SIZE", help="Refuse an input larger than this, e.g. 64MiB [default: max_file_size of [tool.migrator], else 64 MiB].")]
ProjectDirOpt = Annotated[str, typer.Option("--project-dir", help="The app's folder in the repository.")]


def _classify_command(lint: bool):
    def run(
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
        from migrator.commands.classify import ClassifyRequest, classify

        request = ClassifyRequest(paths or [], alembic_config, revision_range, config,
                                  fail_on.value if fail_on else None, max_file_size, rules_url, verbose, lint)
        _run("lint" if lint else "classify", lambda: classify(request), fmt.value)

    return run


app.command("classify", help="Classify each statement as expand, migrate, contract or none, with lock, rewrite and "
                             "findings.")(_classify_command(lint=False))
app.command("lint", help="Pre-merge gate: classify, and fail (exit 1) on mixed migrations or a declared phase that "
                         "disagrees.")(_classify_command(lint=True))


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
    from migrator.commands.demo import DemoRequest, demo as run_demo

    def say(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    request = DemoRequest(fmt.value, config, verbose, provider, database_url, classify_only)
    _run("demo", lambda: run_demo(request, say), fmt.value, logs=not classify_only)


@app.command()
def compat(
    blue: Annotated[Optional[str], typer.Option("--blue", help="Git ref (tag, branch, sha) of the running version (required).")] = None,
    green: Annotated[Optional[str], typer.Option("--green", help="Git ref of the new version [default: the working tree].")] = None,
    project_dir: ProjectDirOpt = ".",
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
    fmt: TextOrJsonOpt = TextOrJson.text,
    alembic_config: AlembicOpt = None,
    prune_templates: Annotated[bool, typer.Option("--prune-templates", help="Drop the cached blue templates (migrator_tpl_*) on the --scratch-url server (with --blue: only that commit's), then exit.")] = False,
) -> None:
    """Run each version's own test suite on the schemas the release puts it on (blue and green on the expanded
    schema; green on the contracted one with --full) in a throwaway PostgreSQL."""
    from migrator.commands import compat as command

    if prune_templates:
        prune = command.PruneRequest(scratch_url, blue, project_dir, alembic_config)
        _run("compat", lambda: command.prune_templates(prune), "text", url=scratch_url)
    request = command.CompatRequest(
        blue=blue, green=green, project_dir=project_dir, scratch_url=scratch_url, env=env or [],
        env_map=env_map or [], pytest_args=pytest_args or [], evidence=evidence, full=full,
        attribute=not no_attribution, serial=serial, suite=suite, python=python, provider=provider, url_var=url_var,
        url_form=url_form, workers=workers, alembic_ini=alembic_config)
    _run("compat", lambda: command.compat(request), fmt.value, url=scratch_url, logs=True)


@app.command()
def rules(fmt: TextOrJsonOpt = TextOrJson.text) -> None:
    """List every rule: id, name, phase, severity."""
    from migrator.commands.rules import rules as list_rules

    _run("rules", list_rules, fmt.value)


@app.command("rule")
def rule_(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule id or name, e.g. C317 or drop-column.")],
    fmt: TextOrJsonOpt = TextOrJson.text,
    config: ConfigOpt = None,
    rules_url: RulesUrlOpt = None,
) -> None:
    """Explain one rule: phase, severity, lock, why it matters, the safe alternative, examples and its page."""
    from migrator.commands.rule import RuleRequest, rule

    _run("rule", lambda: rule(RuleRequest(rule_id, config, rules_url)), fmt.value)


# --- release: plan / expand / migrate / switch / rollback / contract / status ----------------------------------

RELEASE = "Release (against the target database)"
EvidenceOpt = Annotated[Optional[str], typer.Option("--evidence", help="Evidence JSON of `migrator compat --evidence FILE`.")]
ContractEvidenceOpt = Annotated[Optional[str], typer.Option("--evidence", help="Evidence JSON of `migrator compat --full` [default: the evidence recorded at the switch].")]
DDL = ("target", "database", "alembic", "release", "wait", "ddl")  # the commands that apply revisions


def _release(command: str, call: Callable[[], Any], fmt: Enum, opts: ReleaseOptions, **kwargs: Any) -> NoReturn:
    _run(command, call, fmt.value, url=opts.database_url, errors="release", logs=True, **kwargs)


@app.command(rich_help_panel=RELEASE)
@release_options(*DDL, "soak", without=("no_lock_timeout",))
def plan(
    opts: ReleaseOptions,
    blue: Annotated[Optional[str], typer.Option("--blue", help="Git ref of the version production runs [default: green of the last contracted release].")] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Only show the plan (e.g. for a PR comment): write nothing.")] = False,
    fmt: ReleaseFormatOpt = ReleaseFormat.text,
    fail_on: Annotated[Optional[PlanFailOn], typer.Option("--fail-on", help="Exit 1 when the plan has findings at or above this severity (failing preflight counts are errors) [default: never].")] = None,
) -> None:
    """Plan green's release against the live database and record it as planned: per phase each statement with
    lock, table, estimated rows, rewrite and risk, and the gates ahead (markdown: the DBA's PR comment)."""
    from migrator.commands.plan import PlanRequest, plan as command

    request = PlanRequest(opts, blue=blue, record=not no_record, fail_on=fail_on.value if fail_on else None)
    _release("plan", lambda: command(request), fmt, opts)


@app.command(rich_help_panel=RELEASE)
@release_options(*DDL, "gate", "reason")
def expand(opts: ReleaseOptions, evidence: EvidenceOpt = None, fmt: ReleaseFormatOpt = ReleaseFormat.text) -> None:
    """After the expand gate (blue's suite passed on the expanded schema; the live schema is blue's), apply the
    release's expand revisions (each in its own transaction, lock_timeout + retries)."""
    from migrator.commands.expand import ExpandRequest, expand as command

    _release("expand", lambda: command(ExpandRequest(opts, evidence=evidence)), fmt, opts)


@app.command(rich_help_panel=RELEASE)
@release_options(*DDL, "reason")
def migrate(opts: ReleaseOptions, fmt: ReleaseFormatOpt = ReleaseFormat.text) -> None:
    """Apply the release's migrate revisions (data changes; batched, resumable backfills)."""
    from migrator.commands.migrate import MigrateRequest, migrate as command

    _release("migrate", lambda: command(MigrateRequest(opts)), fmt, opts)


@app.command(rich_help_panel=RELEASE)
@release_options("target", "database", "alembic", "release", "wait", "gate", "reason")
def switch(
    opts: ReleaseOptions,
    to: Annotated[str, typer.Option("--to", help="The colour to send traffic to (green; back to blue is `rollback`).")] = "green",
    evidence: EvidenceOpt = None,
    fmt: ReleaseFormatOpt = ReleaseFormat.text,
) -> None:
    """Move traffic to green through the router hook, after the switch gate: expand and migrate done, passing
    compat evidence for the live schema and this release's commits, the hook's pre-switch check."""
    from migrator.commands.switch import SwitchRequest, switch as command

    _release("switch", lambda: command(SwitchRequest(opts, to_color=to, evidence=evidence)), fmt, opts)


@app.command(rich_help_panel=RELEASE)
@release_options("target", "database", "alembic", "release", "wait", "reason")
def rollback(opts: ReleaseOptions, fmt: ReleaseFormatOpt = ReleaseFormat.text) -> None:
    """Send traffic back to blue (only before contract; applied revisions stay)."""
    from migrator.commands.rollback import RollbackRequest, rollback as command

    _release("rollback", lambda: command(RollbackRequest(opts)), fmt, opts)


@app.command(rich_help_panel=RELEASE)
@release_options(*DDL, "soak", "gate", "reason")
def contract(opts: ReleaseOptions, evidence: ContractEvidenceOpt = None,
             fmt: ReleaseFormatOpt = ReleaseFormat.text) -> None:
    """After the contract gate (green's suite passed on the contracted schema, traffic on green, soak time, no
    rollback, no blue sessions), apply the contract revisions: blue's schema goes, and rollback with it."""
    from migrator.commands.contract import ContractRequest, contract as command

    _release("contract", lambda: command(ContractRequest(opts, evidence=evidence)), fmt, opts)


@app.command(rich_help_panel=RELEASE)
@release_options("target", "database", "alembic", "release", "soak")
def status(
    opts: ReleaseOptions,
    evidence: Annotated[Optional[str], typer.Option("--evidence", help="Also evaluate the next gate (expand, switch or contract) with this evidence file.")] = None,
    fmt: ReleaseFormatOpt = ReleaseFormat.text,
) -> None:
    """The release's state, evidence, gates (evaluated, not enforced), recent events and the next command."""
    from migrator.commands.status import StatusRequest, status as command

    _release("status", lambda: command(StatusRequest(opts, evidence=evidence)), fmt, opts)


# --- gate / serve: the switch and contract gates for progressive-delivery engines ------------------------------


@app.command(rich_help_panel=RELEASE)
@release_options("target", "database", "alembic", "release", "soak")
def gate(
    opts: ReleaseOptions,
    name: Annotated[GateName, typer.Argument(metavar="GATE", help="The gate: switch or contract.", show_default=False)],
    evidence: Annotated[Optional[str], typer.Option("--evidence", help="Evidence JSON of `migrator compat` (switch: required; contract: default the evidence recorded at the switch).")] = None,
    fmt: TextOrJsonOpt = TextOrJson.text,
) -> None:
    """Evaluate the switch or contract gate without acting, as `migrator switch|contract` would decide now: exit 0
    pass, 1 refused, 2 error (an Argo Rollouts Job analysis, any CI step). Reads only; records nothing."""
    from migrator.commands.gate import GateRequest, gate as command

    _release("gate", lambda: command(GateRequest(name.value, opts, evidence=evidence)), fmt, opts,
             error_fields={"gate": name.value, "passed": False, "checks": []})


@app.command(rich_help_panel=RELEASE)
@release_options("target", "database", "alembic", "soak")
def serve(
    opts: ReleaseOptions,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port, logged at start).", min=0, max=65535)] = 8080,
    token_env: Annotated[Optional[str], typer.Option("--token-env", metavar="NAME", help="Environment variable holding the bearer token [default: MIGRATOR_SERVE_TOKEN].")] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Serve without a token (only where untrusted clients cannot reach it).")] = False,
    evidence: Annotated[Optional[str], typer.Option("--evidence", help="Evidence JSON the gates read (re-read on every request); without it the switch gate refuses.")] = None,
) -> None:
    """A read-only HTTP server of the switch and contract gates for Argo Rollouts (GET .../gates/{switch,contract}:
    200 with "passed") and Flagger (POST .../confirm: 200 or 409), and /v1/healthz. Logs on stderr."""
    from migrator.commands.serve import ServeRequest, serve as command

    request = ServeRequest(opts, host=host, port=port, token_env=token_env, no_auth=no_auth, evidence=evidence)
    _run("serve", lambda: command(request), "text", url=opts.database_url, logs=True)


# --- fleet: one release across many databases ---------------------------------------------------------------

fleet_app = typer.Typer(help="One release across a fleet of databases ([tool.migrator.fleet]): waves, a concurrency "
                             "limit, shards; each database keeps its own ledger.",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(fleet_app, name="fleet", rich_help_panel=RELEASE)

ShardOpt = Annotated[Optional[str], typer.Option("--shard", metavar="I/N", help="Only this stable slice of the fleet (hash of each database's host:port/dbname); auto/N takes I from $JOB_COMPLETION_INDEX.")]
ConcurrencyOpt = Annotated[Optional[int], typer.Option("--concurrency", help="Databases at a time [default: concurrency of [tool.migrator.fleet], else 8].")]
WavesOpt = Annotated[Optional[str], typer.Option("--waves", metavar="P1,P2,...", help="Cumulative percentages of the fleet after the canary, the last 100 [default: waves of [tool.migrator.fleet], else 10,50,100].")]
CanaryOpt = Annotated[Optional[str], typer.Option("--canary", help="A count, or one database (URL, host:port/dbname, dbname) [default: the first].")]
WaveWaitOpt = Annotated[float, typer.Option("--wave-wait", metavar="SECONDS", help="Sharded: wait this long for the earlier waves' databases of other shards (0: exit 1 at once).")]
FLEET = ("target", "alembic", "release", "wait")


def _fleet(command: str, fmt: TextOrJson, opts: ReleaseOptions, **values: Any) -> None:
    """Results on stdout; progress and the one-line error on stderr."""
    from migrator.commands.fleet import FleetRequest, fleet

    request = FleetRequest(command, opts, **values)
    _run(f"fleet {command}", lambda: fleet(request), fmt.value, errors="fleet", logs=True)


@fleet_app.command("plan")
@release_options(*FLEET)
def fleet_plan(
    opts: ReleaseOptions,
    blue: Annotated[Optional[str], typer.Option("--blue", help="Git ref of the version production runs.")] = None,
    shard: ShardOpt = None, concurrency: ConcurrencyOpt = None, waves: WavesOpt = None, canary: CanaryOpt = None,
    wave_wait: WaveWaitOpt = 0.0, fmt: TextOrJsonOpt = TextOrJson.text,
) -> None:
    """Plan green's release on every database and record it (the canary's release id is every database's)."""
    _fleet("plan", fmt, opts, blue=blue, shard=shard, concurrency=concurrency, waves=waves, canary=canary,
           wave_wait=wave_wait)


def _fleet_phase(command: str, doc: str):
    @release_options(*FLEET, "ddl", "gate", "reason")
    def run_phase(
        opts: ReleaseOptions,
        evidence: EvidenceOpt = None,
        shard: ShardOpt = None, concurrency: ConcurrencyOpt = None, waves: WavesOpt = None, canary: CanaryOpt = None,
        wave_wait: WaveWaitOpt = 0.0, fmt: TextOrJsonOpt = TextOrJson.text,
    ) -> None:
        _fleet(command, fmt, opts, evidence=evidence, shard=shard, concurrency=concurrency, waves=waves,
               canary=canary, wave_wait=wave_wait)

    run_phase.__name__ = f"fleet_{command}"
    run_phase.__doc__ = doc
    return run_phase


fleet_app.command("expand")(_fleet_phase(
    "expand", "The expand gate and revisions on every database, canary first, wave by wave."))
fleet_app.command("migrate")(_fleet_phase(
    "migrate", "The migrate revisions on every database, canary first, wave by wave."))


@fleet_app.command("contract")
@release_options(*FLEET, "ddl", "soak", "gate", "reason", without=("blue_application_name",))
def fleet_contract(
    opts: ReleaseOptions,
    after_switch: Annotated[bool, typer.Option("--after-switch", help="Acknowledge the one router switch recorded on the canary (`migrator switch` against it) for the other databases.")] = False,
    evidence: ContractEvidenceOpt = None,
    shard: ShardOpt = None, concurrency: ConcurrencyOpt = None, waves: WavesOpt = None, canary: CanaryOpt = None,
    wave_wait: WaveWaitOpt = 0.0, fmt: TextOrJsonOpt = TextOrJson.text,
) -> None:
    """Contract every database after the one router switch: the canary's own contract gate first (soak since the
    switch), then each database's (with --after-switch: the switch acknowledged in its ledger, no router call)."""
    _fleet("contract", fmt, opts, after_switch=after_switch, evidence=evidence, shard=shard, concurrency=concurrency,
           waves=waves, canary=canary, wave_wait=wave_wait)


@fleet_app.command("status")
@release_options("target", "release")
def fleet_status(
    opts: ReleaseOptions,
    shard: ShardOpt = None, concurrency: ConcurrencyOpt = None, waves: WavesOpt = None, canary: CanaryOpt = None,
    fmt: TextOrJsonOpt = TextOrJson.text,
) -> None:
    """Every ledger read (no lock, nothing written): per-wave and per-database state with counts, and whether the
    whole fleet is migrated (the one `migrator switch` can run)."""
    _fleet("status", fmt, opts, shard=shard, concurrency=concurrency, waves=waves, canary=canary)


# --- router: check ---------------------------------------------------------------------------------------------

router_app = typer.Typer(help="The router hook ([tool.migrator.hook]): ask it which colour is live.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(router_app, name="router", rich_help_panel=RELEASE)


@router_app.command("check")
def router_check(
    expect: Annotated[Optional[str], typer.Option("--expect", help="Exit 1 unless this colour (blue|green) is live.")] = None,
    project_dir: Annotated[str, typer.Option("--project-dir", help="Green's checkout: the folder holding alembic.ini.")] = ".",
    config: ConfigOpt = None,
    fmt: TextOrJsonOpt = TextOrJson.text,
) -> None:
    """Ask the router which colour is live (current only: nothing moves, nothing is recorded). Exit 0 when it
    answers, 1 when it serves another colour than --expect, 2 when the router cannot be asked."""
    from migrator.commands.router_check import RouterCheckRequest, router_check as command

    _run("router check", lambda: command(RouterCheckRequest(config, project_dir, expect)), fmt.value)


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
