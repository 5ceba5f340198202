"""Declares its phase with its own branch label `migrate`."""
from alembic import op

revision = "l007"
down_revision = "l006"
branch_labels = ("migrate",)
depends_on = None


def upgrade():
    op.execute("UPDATE accounts SET timezone = 'UTC' WHERE id BETWEEN 1 AND 10000 AND timezone IS NULL")


def downgrade():
    pass
