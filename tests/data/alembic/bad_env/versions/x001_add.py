"""Any revision: the env.py fails before it runs."""
from alembic import op
import sqlalchemy as sa

revision = "x001"
down_revision = None


def upgrade():
    op.add_column("t", sa.Column("c", sa.Text))


def downgrade():
    pass
