"""CREATE INDEX CONCURRENTLY outside the per-migration transaction."""
from alembic import op

revision = "k002"
down_revision = "k001"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_items_name", "items", ["name"], postgresql_concurrently=True)


def downgrade():
    pass
