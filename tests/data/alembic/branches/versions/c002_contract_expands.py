"""On the `contract` branch, but only adds a column: P507 (could run earlier)."""
from alembic import op
import sqlalchemy as sa

revision = "c002"
down_revision = "c001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.add_column("items", sa.Column("weight", sa.Text))


def downgrade():
    pass
