"""tools/new_rule.py scaffolds a rule's module, fixture and docs page, and refuses what would clash."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from migrator.config import Config
from migrator.classify.engine import classify_sql
from migrator.phases import Phase, Severity
from migrator.rules import CLASSIFY, Migration, MigrationRule

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "new_rule.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=60)


def test_a_new_rule_has_its_module_fixture_and_page(tmp_path):
    (tmp_path / "migrator" / "rules").mkdir(parents=True)
    done = run("E199", "add-thing", "--title", "Add a thing", "--severity", "info", "--root", str(tmp_path))
    assert done.returncode == 0, done.stderr
    module = tmp_path / "migrator" / "rules" / "e199_add_thing.py"
    assert done.stdout.split() == [str(module), str(tmp_path / "tests/rules/fixtures/E199.sql"),
                                   str(tmp_path / "docs/rules/E199.md")]
    spec = importlib.util.spec_from_file_location("scaffolded", module)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    rule = loaded.AddThing()
    assert (rule.id, rule.name, rule.phase, rule.severity) == ("E199", "add-thing", Phase.EXPAND, Severity.INFO)
    fixture = (tmp_path / "tests/rules/fixtures/E199.sql").read_text()
    assert "-- expect: E199\n-- phase: expand" in fixture and "-- expect: none" in fixture
    page = (tmp_path / "docs/rules/E199.md").read_text()
    assert page.startswith("# E199 add-thing\n\nAdd a thing.\n") and "| expand | info | none | none |" in page


def test_clashes_and_bad_names_are_refused_without_writing(tmp_path):
    taken = run("C328", "something-new", "--title", "X")  # C328 is rename-object in this checkout
    assert taken.returncode == 2 and taken.stderr.startswith("new_rule: C328 something-new: a rule already")
    for args in (("X100", "ok-name"), ("C900", "Bad_Name"), ("C900", "fine", "--severity", "fatal")):
        done = run(*args, "--title", "T", "--root", str(tmp_path))
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert not any(tmp_path.rglob("*.py"))


def test_a_migration_level_rule_is_a_migration_rule_with_its_fixture_and_page(tmp_path):
    (tmp_path / "migrator" / "rules").mkdir(parents=True)
    done = run("P599", "many-tables", "--title", "Migration changes many tables", "--migration", "--root", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "check_migration()" in done.stderr
    module = tmp_path / "migrator" / "rules" / "p599_many_tables.py"
    spec = importlib.util.spec_from_file_location("scaffolded_migration", module)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    rule = loaded.ManyTables()
    assert isinstance(rule, MigrationRule) and rule.stage == CLASSIFY
    assert (rule.id, rule.name, rule.phase, rule.severity) == ("P599", "many-tables", Phase.NONE, Severity.WARNING)
    # the scaffold runs (and finds nothing until it is filled in); statements are not dispatched to it
    report = classify_sql("ALTER TABLE a ADD COLUMN c int;\nALTER TABLE b DROP COLUMN d;\n")
    assert list(rule.check_migration(Migration(report, Config(), tables=frozenset({"a", "b"})))) == []
    assert not (rule.nodes or rule.commands or rule.every or rule.classifies)
    fixture = (tmp_path / "tests/rules/fixtures/P599.sql").read_text()
    assert "-- expect: P599\n" in fixture and "-- expect: none" in fixture and "-- phase:" not in fixture
    page = (tmp_path / "docs/rules/P599.md").read_text()
    assert page.startswith("# P599 many-tables\n\nMigration changes many tables.\n")
    assert "| none | warning | none | none |" in page and "## What it does" in page


def test_migration_and_statement_ids_do_not_mix(tmp_path):
    for args in (("P599", "x-y"), ("C900", "x-y", "--migration"), ("P505", "x-y", "--migration")):
        done = run(*args, "--title", "T", "--root", str(tmp_path) if args[0] != "P505" else str(ROOT))
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "--migration" in run("P599", "x-y", "--title", "T", "--root", str(tmp_path)).stderr
    assert not any(tmp_path.rglob("*.py"))
