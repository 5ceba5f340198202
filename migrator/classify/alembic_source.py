"""Alembic revisions as migrations: render each upgrade() offline and classify its SQL.

One run of the project's env.py in alembic's offline ("--sql") mode renders every revision of the range;
the output is cut at each revision, so a revision's migration holds exactly the SQL its upgrade() emits.
The rendering runs in the app's own interpreter (migrator.runner); no database is contacted.

- alembic's own version-table statements are dropped before classification;
- a revision whose upgrade() cannot render offline (it reads the database) becomes
  a U000 finding on that revision (phase contract), not an error;
- the declared phase comes from a module-level `phase = "expand"` (read with `ast`
  from the file text) or an `expand` / `migrate` / `contract` branch label;
- `# migrator: ignore <rule> reason: ...` in a revision file covers the whole revision;
- each statement points at the line of the `op.*` call in the revision file that wrote it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.config import Config
from migrator.classify.engine import classify_sql
from migrator.rules import SchemaKnowledge
from migrator.errors import ConfigError, InputError
from migrator.classify.lint import PHASE_NAMES, add_hit, declare, parse_phase
from migrator.model import MigrationReport, Report
from migrator.phases import Phase
from migrator.rules import Migration
from migrator.rules.p508_suppression_without_reason import SuppressionWithoutReason
from migrator.rules.registry import known_rule
from migrator.rules.u000_unclassified import Unclassified
from migrator.sql.split import Statement
from migrator.rules.suppress import find_suppressions

if TYPE_CHECKING:  # pragma: no cover
    from migrator.runner import History, ProjectRunner, Rendered


def find_demo_config() -> Path:
    """`alembic.ini` in the current directory, else at the root of migrator's source checkout."""
    here = Path.cwd() / "alembic.ini"
    if here.is_file():
        return here
    root = Path(__file__).resolve().parents[2]  # migrator/classify/alembic_source.py -> the checkout
    shipped = root / "alembic.ini"
    if shipped.is_file():
        return shipped
    raise ConfigError(f"no alembic.ini in the current directory, nor in {root} (the demo ships with migrator's "
                      "source checkout)")


def classify_revisions(alembic_ini: str, revision_range: str | None, config: Config, *,
                       runner: "ProjectRunner | None" = None, knowledge: SchemaKnowledge | None = None) -> Report:
    """Classify the upgrade() of every revision in the range (default: base to the single head), base first.

    `runner`: the project's child (migrator.runner); without one, a child is started for the project the
    config belongs to. `knowledge`: facts about the schema the range starts from (blue's real catalog).
    """
    return Report(list(iter_revisions(alembic_ini, revision_range, config, runner=runner, knowledge=knowledge)))


def iter_revisions(alembic_ini: str, revision_range: str | None, config: Config, *,
                   runner: "ProjectRunner | None" = None,
                   knowledge: SchemaKnowledge | None = None) -> Iterator[MigrationReport]:
    """classify_revisions() one revision at a time: the project's child renders every revision now (its errors
    raise here, before anything is written), and each revision is classified when the iterator reaches it."""
    from migrator.runner import ProjectError

    if runner is None:
        from migrator.runner.project import project_runner

        with project_runner(alembic_ini, config) as child:
            return iter_revisions(alembic_ini, revision_range, config, runner=child, knowledge=knowledge)
    try:
        history = runner.history()
        rendered = runner.render(revision_range)
    except ProjectError as exc:
        from migrator.errors import UsageError

        raise (UsageError if exc.kind == "usage" else ConfigError)(str(exc)) from None
    knowledge = knowledge or SchemaKnowledge()  # revisions run in order: facts of earlier ones hold for later ones
    multiple_bases = len(history.bases) > 1

    def classify_each() -> Iterator[MigrationReport]:
        for item in rendered:
            yield classify_rendered(item, history, config, multiple_bases=multiple_bases, knowledge=knowledge)

    return classify_each()


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
    return sorted({label.lower() for label in revision.branch_labels if label.lower() in PHASE_NAMES})


def label_phase(revision, history: "History", *, multiple_bases: bool) -> tuple[Phase | None, str | None]:
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
        if len(node.down) != 1:
            return None, None  # a base, or a merge: the branches may disagree
        parent = history.revisions.get(node.down[0])
        if parent is None:
            return None, None
        labels = _phase_labels(parent)
        if labels:
            if len(labels) > 1 or not _starts_branch(parent, history, multiple_bases):
                return None, None
            return Phase.parse(labels[0]), None
        node = parent
    return None, None


def _starts_branch(revision, history: "History", multiple_bases: bool) -> bool:
    if not revision.down:
        return multiple_bases
    return any(history.revisions[p].is_branch_point for p in revision.down if p in history.revisions)


def declared_phase(revision, facts: ModuleFacts, history: "History", *,
                   multiple_bases: bool) -> tuple[Phase | None, str | None]:
    """Module `phase = "..."` and branch labels together: (phase, None), (None, error) or (None, None)."""
    if facts.phase_error:
        return None, facts.phase_error
    labelled, error = label_phase(revision, history, multiple_bases=multiple_bases)
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


def classify_rendered(item: "Rendered", history: "History", config: Config, *,
                      multiple_bases: bool = False, knowledge: SchemaKnowledge | None = None) -> MigrationReport:
    revision = history.revisions[item.revision]
    path = Path(item.path or revision.path or item.revision)
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
        no_reason = known_rule(SuppressionWithoutReason)
        for hit in no_reason.check_migration(Migration(migration, config, suppressions=tuple(suppressions))):
            add_hit(migration, hit, config)
    migration.revision = item.revision

    if item.error is not None:
        add_hit(migration, known_rule(Unclassified).hit(
            f"revision {item.revision} cannot render in offline mode: {item.error}",
            fix="keep upgrade() free of database reads (op.get_bind().execute(...)), or render the SQL "
                "in offline mode (`if context.is_offline_mode(): ...`); review it and add "
                "`# migrator: ignore U000 reason: ...`"), config)
        migration.phase = Phase.CONTRACT

    phase, error = declared_phase(revision, facts, history, multiple_bases=multiple_bases)
    declare(migration, phase, error, config)
    _map_lines(migration, item, text, facts.upgrade_lines)
    return migration


def _map_lines(migration: MigrationReport, item: "Rendered", text: str,
               upgrade_lines: tuple[int, int] | None) -> None:
    """Point each statement at the revision file: the line of the op.* call that wrote it; else where its first
    SQL line appears in upgrade(); else the `def upgrade` line."""
    lines = text.splitlines()
    first, last = upgrade_lines or (1, len(lines))
    cursor = first - 1
    for s in migration.statements:
        head = next((ln.strip() for ln in s.sql.splitlines() if ln.strip()), "")
        line = item.source_line(s.line)
        if line is not None and 0 < line <= len(lines):
            text_line = lines[line - 1]
            col = text_line.find(head) if len(head) >= 6 else -1
            _move_inner_lines(s, line - s.line if head and head in text_line else None)
            s.line = line
            s.column = col + 1 if col >= 0 else len(text_line) - len(text_line.lstrip()) + 1
            continue
        found = None
        if len(head) >= 6:
            for i in range(cursor, min(last, len(lines))):
                col = lines[i].find(head)
                if col >= 0:
                    found = (i, col)
                    break
        if found is None:
            _move_inner_lines(s, None)
            s.line, s.column = first, 1
        else:
            cursor = found[0]
            _move_inner_lines(s, found[0] + 1 - s.line)
            s.line, s.column = found[0] + 1, found[1] + 1


_INNER_LINE = re.compile(r"line (\d+): ")


def _move_inner_lines(s, shift: int | None) -> None:
    """Findings of statements inside a DO block carry their line in the rendered SQL: move them by `shift` (the
    statement's text stands in the revision file as rendered), or, when where it stands is unknown, drop the
    line (the finding sits on the statement) and say the line counts in the statement."""
    for f in s.findings:
        if f.line is None:
            continue
        offset = f.line - s.line
        if shift is None:
            f.line = None
            f.message = _INNER_LINE.sub(f"line {offset + 1} of the statement: ", f.message, count=1)
        else:
            f.line += shift
            f.message = _INNER_LINE.sub(f"line {f.line}: ", f.message, count=1)
