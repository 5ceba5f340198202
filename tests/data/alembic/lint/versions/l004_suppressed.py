"""Declared expand, drops a column, reviewed: the suppression covers the whole revision."""
from alembic import op

revision = "l004"
down_revision = "l003"
branch_labels = None
depends_on = None

phase = "expand"

# migrator: ignore P507, drop-column reason: accounts.scratch was never released to blue


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.drop_column("accounts", "scratch")


def downgrade():
    pass
