"""Alembic findings land on the `op.*` call that wrote the statement, through the real CLI, in every format a CI
reads: SARIF regions and GitHub annotations point into the revision file, not at `def upgrade()`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests._cli import run

ENV = '''\
from alembic import context

context.configure(url="postgresql://", literal_binds=True)
with context.begin_transaction():
    context.run_migrations()
'''

REVISION = '''\
"""ops over several lines, in a batch block, in a helper and in op.execute."""
from alembic import op
import sqlalchemy as sa

revision = "a001"
down_revision = None
branch_labels = None
depends_on = None


def _drop(table, column):
    op.drop_column(table, column)


def upgrade() -> None:
    op.add_column(
        "items",
        sa.Column("price", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("items") as batch:
        batch.drop_column("title")
    op.execute(
        """
        ALTER TABLE items DROP COLUMN legacy
        """
    )
    _drop("items", "old")
    op.alter_column("items", "name",
                    new_column_name="label")


def downgrade() -> None:
    pass
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    # script_location relative to the working directory, as `alembic init` writes it
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\npath_separator = os\n")
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(ENV)
    (versions / "a001_ops.py").write_text(REVISION)
    return tmp_path


def op_line(source: str, needle: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if needle in line)


EXPECTED = {  # rule, a word of its message -> the line of the op call that wrote the statement
    ("C301", "price"): "op.add_column(",
    ("C317", "title"): 'batch.drop_column("title")',
    ("C317", "legacy"): "op.execute(",
    ("C317", "old"): "op.drop_column(table, column)",
    ("C320", "name"): 'op.alter_column("items", "name",',
}


def test_sarif_regions_point_at_the_op_calls(project):
    result = run("classify", "-c", "alembic.ini", "--format", "sarif", "--fail-on", "never", cwd=project)
    assert result.code == 0, result.err
    results = json.loads(result.out)["runs"][0]["results"]
    found = {}
    for r in results:
        location = r["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "migrations/versions/a001_ops.py"
        for (rule, word), needle in EXPECTED.items():
            if r["ruleId"] == rule and word in r["message"]["text"]:
                found[(rule, word)] = location["region"]["startLine"]
    assert found == {key: op_line(REVISION, needle) for key, needle in EXPECTED.items()}
    upgrade = op_line(REVISION, "def upgrade")
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] != upgrade for r in results)


def test_github_annotations_point_at_the_op_calls(project):
    result = run("classify", "-c", "alembic.ini", "--format", "github", "--fail-on", "never", cwd=project)
    assert result.code == 0, result.err
    found = {}
    for line in result.out.splitlines():
        if not line.startswith("::"):
            continue
        props, _, message = line[2:].partition("::")
        fields = dict(p.split("=", 1) for p in props.split(" ", 1)[1].split(","))
        assert fields["file"] == "migrations/versions/a001_ops.py"
        for (rule, word), needle in EXPECTED.items():
            if fields["title"].startswith(rule) and word in message.split("%0A")[0]:
                found[(rule, word)] = int(fields["line"])
    assert found == {key: op_line(REVISION, needle) for key, needle in EXPECTED.items()}
