"""migrator agrees with independently labelled real migrations and single statements.

Targets: >= 99% of whole migrations, >= 97% of single statements, and never a contract-labelled item classified
expand or none. Labels come from the projects' own developers (tests/corpus/README.md), not from migrator.
Run `python bench/corpus_report.py` for every disagreement.
"""

from __future__ import annotations

import pytest

from tests.corpus import classify, load_migrations, load_statements, matrix_text, score

MIGRATION_TARGET = 0.99
STATEMENT_TARGET = 0.97


@pytest.fixture(scope="module")
def migrations():
    return classify(load_migrations())


@pytest.fixture(scope="module")
def statements():
    return classify(load_statements())


def _detail(s, limit=25) -> str:
    lines = [matrix_text(s), ""]
    for item in s.wrong[:limit]:
        lines.append(f"  {item.label:>8} -> {item.got:<8} {item.source}: {item.first_line[:100]}")
    if len(s.wrong) > limit:
        lines.append(f"  ... {len(s.wrong) - limit} more (python bench/corpus_report.py)")
    return "\n".join(lines)


def test_corpus_is_big_and_varied():
    items = load_migrations()
    projects = {i.source.split("/")[1] for i in items}
    assert len(items) >= 150, len(items)
    assert len(projects) >= 5, projects
    assert {i.label for i in items} == {"expand", "migrate", "contract"}
    stmts = load_statements()
    assert len(stmts) >= 300, len(stmts)
    assert {i.label for i in stmts} == {"none", "expand", "migrate", "contract"}
    assert len({i.sql for i in stmts}) == len(stmts), "duplicate statements"


def test_migrations_agree(migrations):
    s = score(migrations)
    assert s.agreement >= MIGRATION_TARGET, (
        f"migration agreement {s.agreement:.1%} < {MIGRATION_TARGET:.0%} ({s.agree}/{s.total})\n{_detail(s)}")


def test_statements_agree(statements):
    s = score(statements)
    assert s.agreement >= STATEMENT_TARGET, (
        f"statement agreement {s.agreement:.1%} < {STATEMENT_TARGET:.0%} ({s.agree}/{s.total})\n{_detail(s)}")


@pytest.mark.parametrize("kind", ["migrations", "statements"])
def test_no_contract_is_called_safe(kind, request):
    s = score(request.getfixturevalue(kind))
    assert not s.unsafe, "contract-labelled items classified expand/none:\n" + "\n".join(
        f"  {i.label} -> {i.got} {i.source}: {i.first_line[:100]}" + (f" [{i.error}]" if i.error else "")
        for i in s.unsafe)
