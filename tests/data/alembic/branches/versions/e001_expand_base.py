"""Base of the `expand` branch."""
from alembic import op
import sqlalchemy as sa

revision = "e001"
down_revision = None
branch_labels = ("expand",)
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.add_column("items", sa.Column("color", sa.Text))


def downgrade():
    pass
