"""Every rule has a docstring with its sections, a docs page and a fixture with both kinds of case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migrator.config import Config
from migrator.classify.engine import classify_sql
from migrator.classify.lint import apply_sql_declaration, check_declared
from migrator.rules.registry import all_rules
from tests.rules.fixtures import FIXTURES, load_cases

DOCS = Path(__file__).parents[2] / "docs" / "rules"
RULES = all_rules(plugins=False)
SECTIONS = ("## What it does", "## Why is this bad?", "## Use instead")


def test_registry_is_not_empty_and_ids_follow_the_convention():
    assert len(RULES) >= 45
    for rule in RULES:
        assert re.fullmatch(r"[EMCNPU]\d{3}", rule.id), rule.id
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
        prefix = {"E": "expand", "M": "migrate", "C": "contract", "N": "none", "U": "contract"}.get(rule.id[0])
        if prefix:
            assert rule.phase.label == prefix, f"{rule.id} has phase {rule.phase.label}"


def test_one_rule_per_module():
    modules = [type(r).__module__ for r in RULES]
    assert len(modules) == len(set(modules))
    for rule in RULES:
        assert type(rule).__module__.split(".")[-1].startswith(rule.id.lower() + "_"), type(rule).__module__


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_has_docs(rule):
    doc = type(rule).__doc__ or ""
    for section in SECTIONS:
        assert section in doc, f"{rule.id} docstring lacks {section!r}"
    page = DOCS / f"{rule.id}.md"
    assert page.is_file(), f"{page} missing: run python tools/gen_rule_docs.py"
    from tools.gen_rule_docs import render

    assert page.read_text(encoding="utf-8") == render(rule), f"{page} is stale: run python tools/gen_rule_docs.py"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fixture_has_positive_and_negative_cases(rule):
    path = FIXTURES / f"{rule.id}.sql"
    assert path.is_file(), f"{path} missing"
    cases = load_cases(rule.id)
    assert any(c.expect for c in cases), f"{rule.id}: no positive case"
    assert any(not c.expect for c in cases), f"{rule.id}: no `expect: none` case"


def _all_cases():
    for rule in RULES:
        if (FIXTURES / f"{rule.id}.sql").is_file():
            yield from load_cases(rule.id)


@pytest.mark.parametrize("case", list(_all_cases()), ids=lambda c: f"{c.rule}:{c.line}:{c.title}")
def test_fixture_case(case):
    config = Config()
    for key, value in case.settings.items():
        setattr(config.settings, key, value)
    report = classify_sql(case.sql, f"{case.rule}.sql:{case.line}", config)
    # as `migrator lint` runs it: a `-- migrator: phase <phase>` declaration is checked (P507)
    apply_sql_declaration(report, case.sql, config)
    check_declared(report, config)
    matched = {r for s in report.statements for r in s.rules}
    matched |= {f.rule for s in report.statements for f in s.findings}
    matched |= {f.rule for f in report.findings}
    if case.expect:
        assert case.rule in matched, f"{case.title}: {case.rule} did not match; matched {sorted(matched)}"
    else:
        assert case.rule not in matched, f"{case.title}: {case.rule} matched but should not"
    if case.phase:
        assert report.phase.label == case.phase, f"{case.title}: phase {report.phase.label}, expected {case.phase}"


def test_migration_level_rules_are_declared_like_statement_rules():
    from migrator.rules import CLASSIFY, LINT, MigrationRule

    stages = {r.id: r.stage for r in RULES if isinstance(r, MigrationRule)}
    assert stages == {"P505": CLASSIFY, "P507": LINT, "P508": CLASSIFY}
    for rule in RULES:
        if isinstance(rule, MigrationRule):
            assert rule.phase.label == "none" and not (rule.nodes or rule.commands or rule.every or rule.classifies)


def test_rule_ids_are_not_written_outside_their_modules():
    """Code names migrator's own rules by their classes (`MixedMigration.id`, `DataChange.id`), and what a rule
    knows (its contract precondition, say) lives in its module."""
    package = Path(__file__).parents[2] / "migrator"
    ids = re.compile(r"""["']([CEMNPU]\d{3})["']""")
    found = []
    for path in package.rglob("*.py"):
        for match in ids.finditer(path.read_text(encoding="utf-8")):
            if not path.name.startswith(match.group(1).lower() + "_"):
                found.append(f"{path.relative_to(package)}: {match.group(0)}")
    assert found == []
