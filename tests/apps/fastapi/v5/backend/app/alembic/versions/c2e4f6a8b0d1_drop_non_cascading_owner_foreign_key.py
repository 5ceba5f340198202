"""Drop the old, non-cascading foreign key of item.owner_id

Revision ID: c2e4f6a8b0d1
Revises: a8c1d3e5f7b9
Create Date: 2024-09-10 11:05:02.118734

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "c2e4f6a8b0d1"
down_revision = "a8c1d3e5f7b9"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint("item_owner_id_fkey", "item", type_="foreignkey")
    op.execute("ALTER TABLE item RENAME CONSTRAINT item_owner_id_cascade_fkey TO item_owner_id_fkey")


def downgrade():
    op.execute("ALTER TABLE item RENAME CONSTRAINT item_owner_id_fkey TO item_owner_id_cascade_fkey")
    op.create_foreign_key(
        "item_owner_id_fkey", "item", "user", ["owner_id"], ["id"], deferrable=True, initially="DEFERRED"
    )
