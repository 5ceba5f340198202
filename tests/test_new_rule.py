"""tools/new_rule.py scaffolds a rule's module, fixture and docs page, and refuses what would clash."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from migrator.phases import Phase, Severity

ROOT = Path(__file__).resolve().parents[1]
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
