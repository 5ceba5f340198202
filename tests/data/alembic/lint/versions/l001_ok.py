"""Expand, declared expand: ok."""
from alembic import op
import sqlalchemy as sa

revision = "l001"
down_revision = None
branch_labels = None
depends_on = None

phase = "expand"


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.add_column("accounts", sa.Column("nickname", sa.Text))


def downgrade():
    op.drop_column("accounts", "nickname")
