"""compat e2e fixture: revision 0003 (expand)."""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade() -> None:
    op.execute("ALTER TABLE no_such_table ADD COLUMN nickname text")


def downgrade() -> None:
    pass
