"""A typo in the declared phase."""
from alembic import op
import sqlalchemy as sa

revision = "l006"
down_revision = "l005"
branch_labels = None
depends_on = None

phase = "expnad"


def upgrade():
    op.add_column("accounts", sa.Column("timezone", sa.Text))


def downgrade():
    pass
