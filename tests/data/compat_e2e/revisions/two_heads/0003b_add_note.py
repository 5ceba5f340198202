"""compat e2e fixture: revision 0003b (expand)."""
from alembic import op

revision = "0003b"
down_revision = "0002"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade() -> None:
    op.execute("ALTER TABLE orders ADD COLUMN note text")


def downgrade() -> None:
    pass
