"""Green (v2), expand: a nullable note column blue never writes.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade() -> None:
    op.add_column("items", sa.Column("note", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("items", "note")
