"""Declared expand, but drops a column: P507."""
from alembic import op

revision = "l002"
down_revision = "l001"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.drop_column("accounts", "legacy_flag")


def downgrade():
    pass
