"""A `-- migrator: ignore` inside the SQL string applies to its statement only."""
from alembic import op

revision = "l011"
down_revision = "l010"
branch_labels = None
depends_on = None

phase = "contract"


def upgrade():
    op.execute("SET lock_timeout = '500ms'")
    op.execute("ALTER TABLE accounts DROP COLUMN locale -- migrator: ignore C317 reason: locale moved to profiles")
    op.execute("ALTER TABLE accounts DROP COLUMN timezone")


def downgrade():
    pass
