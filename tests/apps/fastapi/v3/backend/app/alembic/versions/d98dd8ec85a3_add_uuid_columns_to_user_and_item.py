"""Add uuid columns to user and item and fill them

Revision ID: d98dd8ec85a3
Revises: 3f1c5e0a9b21
Create Date: 2024-07-19 04:08:04.000976

"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "d98dd8ec85a3"
down_revision = "3f1c5e0a9b21"
branch_labels = None
depends_on = None


def upgrade():
    # New UUID columns beside the integer ones
    op.add_column("user", sa.Column("new_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.add_column("item", sa.Column("new_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.add_column("item", sa.Column("new_owner_id", postgresql.UUID(as_uuid=True), nullable=True))

    # Populate the new columns with UUIDs
    op.execute('UPDATE "user" SET new_id = gen_random_uuid()')
    op.execute("UPDATE item SET new_id = gen_random_uuid()")
    op.execute('UPDATE item SET new_owner_id = (SELECT new_id FROM "user" WHERE "user".id = item.owner_id)')


def downgrade():
    op.drop_column("item", "new_owner_id")
    op.drop_column("item", "new_id")
    op.drop_column("user", "new_id")
