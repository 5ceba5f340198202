"""A suppression without a reason: P508, and the finding stays."""
from alembic import op

revision = "l009"
down_revision = "l008"
branch_labels = None
depends_on = None

phase = "contract"

# migrator: ignore C317


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.drop_column("accounts", "legacy_flag2")


def downgrade():
    pass
