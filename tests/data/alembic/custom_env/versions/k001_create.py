"""Creates a table named alembic_version: not this project's version table, so it is classified."""
from alembic import op
import sqlalchemy as sa

revision = "k001"
down_revision = None
branch_labels = None
depends_on = None

phase = "expand"


def upgrade():
    op.create_table("alembic_version", sa.Column("version_num", sa.String(32), primary_key=True))


def downgrade():
    op.drop_table("alembic_version")
