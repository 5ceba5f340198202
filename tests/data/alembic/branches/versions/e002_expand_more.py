"""On the `expand` branch: inherits its phase."""
from alembic import op
import sqlalchemy as sa

revision = "e002"
down_revision = "e001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.add_column("items", sa.Column("size", sa.Text))


def downgrade():
    pass
