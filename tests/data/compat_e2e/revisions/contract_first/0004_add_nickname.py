"""compat e2e fixture: revision 0004 (expand)."""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN nickname text")


def downgrade() -> None:
    pass
