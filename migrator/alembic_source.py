"""Alembic revisions as migrations: render each upgrade() offline and classify its SQL.

One run of the project's env.py in alembic's offline ("--sql") mode renders every
revision of the range; the output is cut at each revision, so a revision's
migration holds exactly the SQL its upgrade() emits. No database is contacted.

- alembic's own version-table statements are dropped before classification;
- a revision whose upgrade() cannot render offline (it reads the database) becomes
  a U000 finding on that revision (phase contract), not an error;
- the declared phase comes from a module-level `phase = "expand"` (read with `ast`
  from the file text) or an `expand` / `migrate` / `contract` branch label;
- `# migrator: ignore <rule> reason: ...` in a revision file covers the whole revision;
- statement lines are mapped back into the revision file (the SQL text of an
  `op.execute()` where it appears verbatim, else the `def upgrade` line).
"""

from __future__ import annotations

import ast
import configparser
import io
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrator.config import Config
from migrator.engine import NO_REASON, classify_sql
from migrator.rules._base import SchemaKnowledge
from migrator.errors import ConfigError, InputError, UsageError
from migrator.lint import PHASE_NAMES, UNCLASSIFIED, add_finding, declare, parse_phase
from migrator.model import MigrationReport, Report
from migrator.phases import Phase
from migrator.sql.split import Statement
from migrator.suppress import find_suppressions

if TYPE_CHECKING:  # pragma: no cover
    from alembic.config import Config as AlembicConfig
    from alembic.script import Script, ScriptDirectory

#: used when the alembic config sets no sqlalchemy.url: renders PostgreSQL SQL, connects nowhere
DEFAULT_URL = "postgresql://"
_RUNNING = re.compile(r"^-- Running upgrade [^\n]*\n\n", re.MULTILINE)
_TRANSACTION_MARK = re.compile(r"^(BEGIN|COMMIT);$", re.MULTILINE)


def find_demo_config() -> Path:
    """`alembic.ini` in the current directory, else at the root of migrator's source checkout."""
    here = Path.cwd() / "alembic.ini"
    if here.is_file():
        return here
    import migrator

    root = Path(migrator.__file__).resolve().parents[1]
    shipped = root / "alembic.ini"
    if shipped.is_file():
        return shipped
    raise ConfigError(f"no alembic.ini in the current directory, nor in {root} (the demo ships with migrator's "
                      "source checkout)")


def classify_revisions(alembic_ini: str, revision_range: str | None, config: Config) -> Report:
    """Classify the upgrade() of every revision in the range (default: base to the single head), base first."""
    return Report(list(iter_revisions(alembic_ini, revision_range, config)))


def iter_revisions(alembic_ini: str, revision_range: str | None, config: Config) -> Iterator[MigrationReport]:
    """classify_revisions() one revision at a time: the configuration is loaded and every revision rendered
    offline now (their errors raise here); each is classified when the iterator reaches it."""
    cfg = load_alembic_config(alembic_ini)
    script = load_script_directory(cfg, alembic_ini)
    steps, start, dest = upgrade_steps(script, revision_range, alembic_ini)
    rendered = render_offline(cfg, script, steps, start, dest) if steps else []
    bases = len(script.get_bases()) if steps else 0

    def classify_each() -> Iterator[MigrationReport]:
        knowledge = SchemaKnowledge()  # revisions run in order: facts of earlier ones hold for later ones
        for item in rendered:
            yield classify_rendered(item, script, config, multiple_bases=bases > 1, knowledge=knowledge)

    return classify_each()


# --- loading ---------------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0].strip()


def load_alembic_config(path: str) -> "AlembicConfig":
    from alembic.config import Config as AlembicConfig

    file = Path(path)
    if not file.exists():
        raise ConfigError(f"{path}: alembic config not found")
    if not file.is_file():
        raise ConfigError(f"{path}: alembic config is not a file")
    cfg = AlembicConfig(str(file), stdout=sys.stderr)
    try:
        parser = cfg.file_config
        if not parser.has_section(cfg.config_ini_section):
            raise ConfigError(f"{path}: no [{cfg.config_ini_section}] section (not an alembic config?)")
        cfg.get_main_option("script_location")
        url = cfg.get_main_option("sqlalchemy.url")
    except configparser.Error as exc:
        raise ConfigError(f"{path}: invalid alembic config: {_first_line(exc)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid alembic config: not UTF-8 text") from None
    if not url:
        cfg.set_main_option("sqlalchemy.url", DEFAULT_URL)
    return cfg


def load_script_directory(cfg: "AlembicConfig", path: str) -> "ScriptDirectory":
    """The ScriptDirectory with every revision file loaded; any failure is a ConfigError."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        script = ScriptDirectory.from_config(cfg)
    except CommandError as exc:
        message = _first_line(exc)
        if "script_location" in message:
            message = "no script_location in the [alembic] section"
        raise ConfigError(f"{path}: {message}") from None
    except (configparser.Error, ValueError) as exc:
        raise ConfigError(f"{path}: invalid alembic config: {_first_line(exc)}") from None
    env = Path(script.dir, "env.py")
    if not env.is_file():
        raise ConfigError(f"{path}: no env.py in {display_path(script.dir)}")
    try:
        with _quiet():
            script.get_heads()  # loads and links every revision file
    except Exception as exc:  # a revision that does not import, a missing down_revision, a cycle
        raise ConfigError(f"{path}: cannot load the revisions in {display_path(script.dir)}: "
                          f"{_first_line(exc)}") from None
    return script


def upgrade_steps(script: "ScriptDirectory", revision_range: str | None, path: str) -> tuple[list, Any, str]:
    """The RevisionSteps to render, base first, with the range's start (exclusive) and destination.

    `BASE:HEAD` as in `alembic upgrade BASE:HEAD --sql`; an empty side means base / the head; a
    single revision selects that revision alone.
    """
    from alembic.util import CommandError

    heads = script.get_heads()
    text = (revision_range or "").strip()
    try:
        if not text:
            start, dest = None, None
        elif ":" in text:
            first, _, last = text.partition(":")
            start, dest = first.strip() or None, last.strip() or None
            if ":" in last:
                raise UsageError(f"--range {revision_range!r}: expected BASE:HEAD")
        else:
            if text.lower() == "base":
                raise UsageError(f"--range {revision_range!r} selects no revision (try base:head)")
            revision = _one_revision(script, text, revision_range)
            start, dest = revision.down_revision, revision.revision
        if start is not None and not isinstance(start, (tuple, list)):
            if start.lower() == "base":
                start = None
            else:
                start = _one_revision(script, start, revision_range).revision
        if dest is None or dest == "head":
            if len(heads) > 1:
                raise ConfigError(f"{path}: multiple heads ({', '.join(sorted(heads))}): give --range BASE:HEAD "
                                  "naming one of them (or base:heads for all)")
            if not heads:
                return [], None, "head"
            dest = heads[0]
        elif dest != "heads":
            if dest.lower() == "base":
                raise UsageError(f"--range {revision_range!r} ends at base: it selects no revision")
            dest = _one_revision(script, dest, revision_range).revision
        steps = script._upgrade_revs(dest, start)
    except CommandError as exc:
        raise UsageError(f"--range {revision_range!r}: {_first_line(exc)}") from None
    if not steps and start is not None and start != dest:
        raise UsageError(f"--range {revision_range!r}: {dest} does not come after {start}")
    return steps, start, dest


def _one_revision(script: "ScriptDirectory", ident: str, revision_range: str | None) -> "Script":
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        found = script.get_revisions(ident)
    except (CommandError, RevisionError) as exc:
        raise UsageError(f"--range {revision_range!r}: {_first_line(exc)}") from None
    revisions = [r for r in found if r is not None]
    if len(revisions) != 1:
        names = ", ".join(r.revision for r in revisions) or "none"
        raise UsageError(f"--range {revision_range!r}: {ident!r} names {len(revisions)} revisions ({names})")
    return revisions[0]


# --- offline rendering -----------------------------------------------------------------------------------


@dataclass
class Rendered:
    """What one revision's upgrade() wrote in offline mode."""

    script: Any  # alembic Script
    spans: list[tuple[int, int]] = field(default_factory=list)
    sql: str = ""
    error: str | None = None  # first line of the exception its upgrade() raised
    in_transaction: bool = False  # alembic wrapped it in BEGIN ... COMMIT (transactional DDL)
    version_table: str = "alembic_version"
    version_table_schema: str | None = None


class _OfflineBuffer(io.StringIO):
    """alembic's output buffer. alembic appends `;` to each statement's last line, so a trailing
    `-- comment` in an op.execute() string would swallow the terminator and merge two statements
    (online they run apart): such a terminator goes on a line of its own."""

    def write(self, text: str) -> int:
        if text.endswith(";\n\n"):
            body = text[:-3]
            if "--" in body[body.rfind("\n") + 1:]:
                text = body + "\n;\n\n"
        return super().write(text)


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep stdout for results while alembic and env.py run: prints go to stderr, INFO logs are dropped,
    and the logging set-up env.py makes (`fileConfig(...)`) is undone afterwards."""
    previous = logging.root.manager.disable
    saved = _logging_state()
    logging.disable(max(previous, logging.INFO))
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        logging.disable(previous)
        _restore_logging(saved)


def _logging_state() -> dict:
    loggers = {name: lg for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    loggers[""] = logging.root
    return {name: (lg, lg.disabled, lg.level, list(lg.handlers), lg.propagate) for name, lg in loggers.items()}


def _restore_logging(saved: dict) -> None:
    current = {name: lg for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    for name, lg in current.items():
        if name not in saved:  # created by env.py's logging configuration
            lg.disabled, lg.level, lg.handlers, lg.propagate = False, logging.NOTSET, [], True
    for lg, disabled, level, handlers, propagate in saved.values():
        lg.disabled, lg.level, lg.handlers, lg.propagate = disabled, level, handlers, propagate


def render_offline(cfg: "AlembicConfig", script: "ScriptDirectory", steps: list, start: Any, dest: str) -> list[Rendered]:
    """Run env.py once in offline mode and cut its output at each revision."""
    from alembic.runtime.environment import EnvironmentContext

    buffer = _OfflineBuffer()
    cfg.output_buffer = buffer
    items = [Rendered(step.revision) for step in steps]
    for step, item in zip(steps, items):
        step.migration_fn = _guarded(step.migration_fn, item)
    state = {"current": None, "calls": 0, "preamble": ""}

    def migrations(heads, context) -> Iterator:
        state["calls"] += 1
        if state["calls"] == 1:
            state["preamble"] = buffer.getvalue()
        marks = _TRANSACTION_MARK.findall(state["preamble"])
        in_transaction = bool(marks) and marks[-1] == "BEGIN"
        for step, item in zip(steps, items):
            item.in_transaction = in_transaction
            item.version_table = context.version_table
            item.version_table_schema = context.version_table_schema
            begin = buffer.tell()
            state["current"] = item
            try:
                yield step
            finally:
                item.spans.append((begin, buffer.tell()))
                state["current"] = None

    env = display_path(Path(script.dir, "env.py"))
    starting = list(start) if isinstance(start, (tuple, list)) else start
    try:
        with _quiet(), EnvironmentContext(cfg, script, fn=migrations, as_sql=True, starting_rev=starting,
                                          destination_rev=dest):
            script.run_env()
    except Exception as exc:
        current = state["current"]
        if current is not None:
            raise ConfigError(f"{env}: alembic failed on revision {current.script.revision}: "
                              f"{type(exc).__name__}: {_first_line(exc)}") from None
        raise ConfigError(f"{env}: cannot run env.py in offline mode: {type(exc).__name__}: "
                          f"{_first_line(exc)}") from None
    if state["calls"] == 0:
        raise ConfigError(f"{env}: env.py never called context.run_migrations() in offline mode")
    text = buffer.getvalue()
    for item in items:
        item.sql = "".join(_RUNNING.sub("", text[a:b]) for a, b in item.spans)
    return items


def _guarded(fn: Callable, item: Rendered) -> Callable:
    """Run a revision's upgrade(); an exception is recorded on the revision instead of stopping alembic."""

    def upgrade(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            item.error = item.error or f"{type(exc).__name__}: {_first_line(exc)}"
            return None

    return upgrade


# --- classification --------------------------------------------------------------------------------------


def version_table_skip(table: str, schema: str | None) -> Callable[[Statement], bool]:
    """A predicate that is true for alembic's statements on its version table (and nothing else)."""
    name, owner = table.upper(), schema.upper() if schema else None

    def skip(stmt: Statement) -> bool:
        words = stmt.words
        if len(words) < 2:
            return False
        head = words[0]
        if head == "CREATE" and words[1] == "TABLE":
            i = 5 if words[2:5] == ("IF", "NOT", "EXISTS") else 2
        elif head in ("INSERT", "DELETE") and words[1] in ("INTO", "FROM"):
            i = 2
        elif head == "UPDATE":
            i = 1
        else:
            return False
        if len(words) > i + 2 and words[i + 1] == ".":
            return owner is not None and words[i] == owner and words[i + 2] == name
        return owner is None and len(words) > i and words[i] == name

    return skip


@dataclass
class ModuleFacts:
    """What the revision file says, read with `ast` (the module itself was imported once, by alembic)."""

    phase: Phase | None = None
    phase_error: str | None = None
    upgrade_lines: tuple[int, int] | None = None  # first and last line of `def upgrade`


def read_module(text: str) -> ModuleFacts:
    facts = ModuleFacts()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return facts
    for node in tree.body:
        target_value = None
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "phase" for t in node.targets):
            target_value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "phase":
            target_value = node.value
        elif isinstance(node, ast.FunctionDef) and node.name == "upgrade":
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            facts.upgrade_lines = (first, node.end_lineno or node.lineno)
        if target_value is None:
            continue
        value = target_value.value if isinstance(target_value, ast.Constant) else ast.get_source_segment(text, target_value)
        try:
            if not (isinstance(target_value, ast.Constant) and isinstance(target_value.value, str)):
                raise ValueError(f"must be a string literal: {', '.join(PHASE_NAMES[:-1])} or {PHASE_NAMES[-1]}")
            facts.phase, facts.phase_error = parse_phase(value), None
        except ValueError as exc:
            facts.phase, facts.phase_error = None, f"line {node.lineno}: `phase = {value!r}`: {exc}"
    return facts


def _phase_labels(revision) -> list[str]:
    labels = getattr(revision, "_orig_branch_labels", None) or ()
    return sorted({label.lower() for label in labels if label.lower() in PHASE_NAMES})


def label_phase(revision, script: "ScriptDirectory", *, multiple_bases: bool) -> tuple[Phase | None, str | None]:
    """The phase an `expand` / `migrate` / `contract` branch label declares for this revision.

    Its own label first; else the label of the revision that starts the branch it is on (a base
    when the project has several bases, or a child of a branch point). In a single linear
    history a label is the revision's own: alembic would spread it to every revision.
    """
    own = _phase_labels(revision)
    if len(own) > 1:
        return None, f"branch labels declare more than one phase: {', '.join(own)}"
    if own:
        return Phase.parse(own[0]), None
    node = revision
    seen = set()
    while node.revision not in seen:
        seen.add(node.revision)
        down = node.down_revision
        if isinstance(down, (tuple, list)):
            if len(down) != 1:
                return None, None  # a merge: the branches may disagree
            down = down[0]
        if down is None:
            return None, None
        parent = script.get_revision(down)
        labels = _phase_labels(parent)
        if labels:
            if len(labels) > 1 or not _starts_branch(parent, script, multiple_bases):
                return None, None
            return Phase.parse(labels[0]), None
        node = parent
    return None, None


def _starts_branch(revision, script: "ScriptDirectory", multiple_bases: bool) -> bool:
    down = revision.down_revision
    if down is None or down == ():
        return multiple_bases
    parents = down if isinstance(down, (tuple, list)) else (down,)
    return any(script.get_revision(p).is_branch_point for p in parents)


def declared_phase(revision, facts: ModuleFacts, script: "ScriptDirectory", *,
                   multiple_bases: bool) -> tuple[Phase | None, str | None]:
    """Module `phase = "..."` and branch labels together: (phase, None), (None, error) or (None, None)."""
    if facts.phase_error:
        return None, facts.phase_error
    labelled, error = label_phase(revision, script, multiple_bases=multiple_bases)
    if error:
        return None, error
    own = _phase_labels(revision)
    if facts.phase is not None and own and labelled is not None and labelled != facts.phase:
        return None, (f"module declares `phase = {facts.phase.label!r}` but its branch label is "
                      f"{labelled.label!r}")
    return (facts.phase if facts.phase is not None else labelled), None


def display_path(path: str | Path) -> str:
    """The path relative to the current directory when it is below it, else absolute."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


def classify_rendered(item: Rendered, script: "ScriptDirectory", config: Config, *,
                      multiple_bases: bool = False, knowledge: SchemaKnowledge | None = None) -> MigrationReport:
    revision = item.script
    path = Path(revision.path)
    source = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""  # a sourceless (.pyc) revision: no declarations or comments to read
    facts = read_module(text)
    # `#` comments only: a `-- migrator: ignore` inside an op.execute() string applies to its statement
    suppressions = [s for s in find_suppressions(text, whole_file=True) if text.startswith("#", s.offset)]

    if item.sql.strip():
        try:
            migration = classify_sql(item.sql, source, config, extra_suppressions=suppressions,
                                     skip=version_table_skip(item.version_table, item.version_table_schema),
                                     in_transaction=item.in_transaction, knowledge=knowledge)
        except InputError as exc:
            migration = MigrationReport(source=source, phase=Phase.CONTRACT, error=str(exc))
            migration.suppressions = suppressions
    else:
        migration = MigrationReport(source=source, suppressions=suppressions)
        for sup in suppressions:
            if sup.reason is None:
                add_finding(migration, NO_REASON, f"line {sup.line}: `migrator: ignore {', '.join(sup.rules)}` has "
                                                  "no `reason: ...`; the findings stay", config)
    migration.revision = revision.revision

    if item.error is not None:
        add_finding(migration, UNCLASSIFIED,
                    f"revision {revision.revision} cannot render in offline mode: {item.error}", config,
                    fix="keep upgrade() free of database reads (op.get_bind().execute(...)), or render the SQL "
                        "in offline mode (`if context.is_offline_mode(): ...`); review it and add "
                        "`# migrator: ignore U000 reason: ...`")
        migration.phase = Phase.CONTRACT

    phase, error = declared_phase(revision, facts, script, multiple_bases=multiple_bases)
    declare(migration, phase, error, config)
    if facts.upgrade_lines is not None:
        _map_lines(migration, text, facts.upgrade_lines)
    return migration


def _map_lines(migration: MigrationReport, text: str, upgrade_lines: tuple[int, int]) -> None:
    """Point each statement at the revision file: where its first SQL line appears in upgrade(), else `def`."""
    lines = text.splitlines()
    first, last = upgrade_lines
    cursor = first - 1
    for s in migration.statements:
        head = next((ln.strip() for ln in s.sql.splitlines() if ln.strip()), "")
        found = None
        if len(head) >= 6:
            for i in range(cursor, min(last, len(lines))):
                col = lines[i].find(head)
                if col >= 0:
                    found = (i, col)
                    break
        if found is None:
            s.line, s.column = first, 1
        else:
            cursor = found[0]
            s.line, s.column = found[0] + 1, found[1] + 1
