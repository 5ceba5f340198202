"""On the `contract` branch; its module attribute declares migrate, which wins over the branch."""
from alembic import op

revision = "c003"
down_revision = "c002"
branch_labels = None
depends_on = None

phase = "migrate"


def upgrade():
    op.execute("UPDATE items SET weight = '0' WHERE id < 1000 AND weight IS NULL")


def downgrade():
    pass
