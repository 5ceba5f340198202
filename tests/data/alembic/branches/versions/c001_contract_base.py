"""Base of the `contract` branch."""
from alembic import op

revision = "c001"
down_revision = None
branch_labels = ("contract",)
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.drop_column("items", "legacy_color")


def downgrade():
    pass
