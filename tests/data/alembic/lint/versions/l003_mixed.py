"""Declared contract; adds a column and drops another: mixed (P505), no P507."""
from alembic import op
import sqlalchemy as sa

revision = "l003"
down_revision = "l002"
branch_labels = None
depends_on = None

phase = "contract"


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.add_column("accounts", sa.Column("plan", sa.Text))
    op.drop_column("accounts", "old_plan")


def downgrade():
    pass
