"""An upgrade() that does nothing."""

revision = "l008"
down_revision = "l007"
branch_labels = None
depends_on = None

phase = "contract"


def upgrade():
    pass


def downgrade():
    pass
