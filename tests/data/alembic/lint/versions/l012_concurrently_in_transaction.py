"""CREATE INDEX CONCURRENTLY inside alembic's transaction: PostgreSQL rejects it (P506)."""
from alembic import op

revision = "l012"
down_revision = "l011"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade():
    op.create_index("ix_accounts_plan", "accounts", ["plan"], postgresql_concurrently=True)


def downgrade():
    pass
