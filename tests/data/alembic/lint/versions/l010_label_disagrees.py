"""Branch label `expand`, module `phase = "contract"`: an invalid declaration."""
from alembic import op
import sqlalchemy as sa

revision = "l010"
down_revision = "l009"
branch_labels = ("expand",)
depends_on = None

phase = "contract"


def upgrade():
    op.add_column("accounts", sa.Column("locale", sa.Text))


def downgrade():
    pass
