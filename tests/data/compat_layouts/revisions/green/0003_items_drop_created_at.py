"""Green (v2), contract: drop created_at, which blue still reads. Held back by compat.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

phase = "contract"


def upgrade() -> None:
    op.drop_column("items", "created_at")


def downgrade() -> None:
    raise NotImplementedError
