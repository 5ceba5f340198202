"""Declares nothing: alembic spreads the `migrate` and `expand` labels of this linear history to it,
but in a single linear history a label belongs to its own revision only."""
from alembic import op
import sqlalchemy as sa

revision = "l013"
down_revision = "l012"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("accounts", sa.Column("referrer", sa.Text))


def downgrade():
    pass
