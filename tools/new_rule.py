"""Scaffold a rule: its module, its fixture and its docs page, side by side.

    python tools/new_rule.py C333 drop-sequence-owner --title "Drop a sequence's owner" [--severity warning]
    python tools/new_rule.py P510 too-many-tables --title "Migration changes many tables" --migration

writes migrator/rules/c333_drop_sequence_owner.py (the class, its docstring as the docs' single source, a
`check` to fill in), tests/rules/fixtures/C333.sql (a case that must match and one that must not: the rule
tests fail until `check` finds it) and docs/rules/C333.md. The phase follows the id's letter (E expand,
M migrate, C contract, N none). `--migration` scaffolds a migration-level rule instead (a P id, phase none):
a MigrationRule with a `check_migration` to fill in.
Afterwards: fill in `check` and the fixture, then `python tools/gen_rule_docs.py` refreshes the docs index.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHASES = {"E": "EXPAND", "M": "MIGRATE", "C": "CONTRACT", "N": "NONE"}
SEVERITIES = ("error", "warning", "info", "none")

MODULE = '''from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule, table_name


class {cls}(Rule):
    """{title}.

    ## What it does
    Finds `...` (say which statements, and which are another rule's).

    ## Why is this bad?
    What blue (the running version) or the live traffic suffers when this runs.

    ## Use instead
    The safe multi-step alternative, phase by phase.
    """

    id, name, phase, severity = "{id}", "{name}", Phase.{phase}, {severity}
    nodes = (exp.Alter,)       # sqlglot node types to look at; `commands` for statements sqlglot leaves opaque
    fix = "{fix}"

    def check(self, stmt, ctx):
        node = stmt.node
        if False:  # TODO: recognise the statement, then say what it does to blue
            yield self.hit(f"... {{table_name(node.this)}} ...", table=table_name(node.this), lock=Lock.ACCESS_EXCLUSIVE)
        return
'''

MIGRATION_MODULE = '''from migrator.phases import Phase, Severity
from migrator.rules._base import Migration, MigrationRule


class {cls}(MigrationRule):
    """{title}.

    ## What it does
    Finds migrations that `...` (say what across its statements, and which are another rule's).

    ## Why is this bad?
    What blue (the running version) or the live traffic suffers when such a migration runs.

    ## Use instead
    The safe alternative: how to split or reorder the migration.
    """

    id, name, phase, severity = "{id}", "{name}", Phase.NONE, {severity}
    fix = "{fix}"

    def check_migration(self, migration: Migration):
        # migration.report (phase, mixed, findings), .phases, .data, .tables, .statements, .suppressions
        if False:  # TODO: recognise the migration, then say what it does to blue
            yield self.hit(f"... {{len(migration.tables)}} tables ...")
        return
'''

MIGRATION_FIXTURE = '''-- title: the migration this rule is about
-- expect: {id}
-- TODO: the smallest migration that shows it
ALTER TABLE t ADD COLUMN c int;
ALTER TABLE t2 DROP COLUMN d;

-- title: a near miss the rule must leave alone
-- expect: none
CREATE TABLE t2 (id bigint PRIMARY KEY);
'''

FIXTURE = '''-- title: the statement this rule is about
-- expect: {id}
-- phase: {phase}
-- TODO: the smallest migration that shows it
ALTER TABLE t ALTER COLUMN c SET STATISTICS 100;

-- title: a near miss the rule must leave alone
-- expect: none
CREATE TABLE t2 (id bigint PRIMARY KEY);
'''


class ScaffoldError(Exception):
    pass


def scaffold(rule_id: str, name: str, title: str, severity: str, root: Path = ROOT, *,
             migration: bool = False) -> list[Path]:
    if migration and not re.fullmatch(r"P\d{3}", rule_id):
        raise ScaffoldError(f"rule id {rule_id!r}: a migration-level rule wants P and three digits (e.g. P510)")
    if not migration and not re.fullmatch(r"[EMCN]\d{3}", rule_id):
        hint = " (P: a migration-level rule, --migration)" if rule_id[:1] == "P" else ""
        raise ScaffoldError(f"rule id {rule_id!r}: want a letter E, M, C or N and three digits (e.g. C333){hint}")
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", name):
        raise ScaffoldError(f"rule name {name!r}: want kebab-case, e.g. drop-sequence-owner")
    if severity not in SEVERITIES:
        raise ScaffoldError(f"severity {severity!r}: want one of {', '.join(SEVERITIES)}")
    if not title.strip() or '"' in title or "\n" in title:
        raise ScaffoldError("--title: one line, without double quotes")
    taken = _taken(root)
    if rule_id in taken or name in taken.values():
        raise ScaffoldError(f"{rule_id} {name}: a rule already has this id or name")
    module = root / "migrator" / "rules" / f"{rule_id.lower()}_{name.replace('-', '_')}.py"
    fixture = root / "tests" / "rules" / "fixtures" / f"{rule_id}.sql"
    page = root / "docs" / "rules" / f"{rule_id}.md"
    for path in (module, fixture, page):
        if path.exists():
            raise ScaffoldError(f"{path} exists: not overwritten")
    phase = "NONE" if migration else PHASES[rule_id[0]]
    cls = "".join(part.capitalize() for part in name.split("-"))
    sev = "None" if severity == "none" else f"Severity.{severity.upper()}"
    template, cases = (MIGRATION_MODULE, MIGRATION_FIXTURE) if migration else (MODULE, FIXTURE)
    module.write_text(template.format(cls=cls, title=title.strip().rstrip("."), id=rule_id, name=name, phase=phase,
                                      severity=sev, fix="TODO: the fix in one line"), encoding="utf-8")
    fixture.parent.mkdir(parents=True, exist_ok=True)
    fixture.write_text(cases.format(id=rule_id, phase=phase.lower()), encoding="utf-8")
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(_page(module, cls), encoding="utf-8")
    return [module, fixture, page]


def _taken(root: Path) -> dict[str, str]:
    """id -> name of the rules already in root's migrator/rules (read from the files: nothing is imported)."""
    found = {}
    for path in (root / "migrator" / "rules").glob("[a-z][0-9][0-9][0-9]_*.py"):
        m = re.search(r'id, name, phase, severity = "(\w+)", "([\w-]+)"', path.read_text(encoding="utf-8"))
        if m:
            found[m.group(1)] = m.group(2)
    return found


def _page(module: Path, cls: str) -> str:
    """The docs page, rendered by tools/gen_rule_docs.py from the new module's docstring."""
    import importlib.util

    sys.path.insert(0, str(ROOT))
    from tools.gen_rule_docs import render

    spec = importlib.util.spec_from_file_location(f"_new_rule_{module.stem}", module)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return render(getattr(loaded, cls)())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("id")
    parser.add_argument("name")
    parser.add_argument("--title", required=True, help="one line: what the statement does, e.g. 'Drop a sequence'")
    parser.add_argument("--severity", default="warning", help="error, warning, info or none [warning]")
    parser.add_argument("--migration", action="store_true",
                        help="a migration-level rule (P id): check_migration reads the whole migration")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        written = scaffold(args.id, args.name, args.title, args.severity, args.root, migration=args.migration)
    except ScaffoldError as exc:
        print(f"new_rule: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    hook = "check_migration()" if args.migration else "check()"
    print(f"next: fill in {hook} and the fixture; tests/unit/test_rules.py fails until the rule finds its case; "
          "then python tools/gen_rule_docs.py", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
