"""Add a cascading foreign key from item.owner_id to user.id

Revision ID: a8c1d3e5f7b9
Revises: 5b6e8f0c2d17
Create Date: 2024-09-10 11:02:48.906311

The old foreign key stays until the contract revision. The new constraint is added NOT VALID
(brief lock) and validated after (no write lock).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "a8c1d3e5f7b9"
down_revision = "5b6e8f0c2d17"
branch_labels = None
depends_on = None

# The team reviewed this one: the new key only rejects writes that name a missing owner, which neither
# version makes; `migrator compat` proves it by running blue's suite with the key in place.
phase = "expand"
# migrator: ignore P507 reason: the cascading key rejects only writes naming a missing owner; compat proves blue complies


def upgrade():
    op.execute(
        "ALTER TABLE item ADD CONSTRAINT item_owner_id_cascade_fkey FOREIGN KEY (owner_id) "
        'REFERENCES "user" (id) ON DELETE CASCADE NOT VALID'
    )
    op.execute("ALTER TABLE item VALIDATE CONSTRAINT item_owner_id_cascade_fkey")


def downgrade():
    op.drop_constraint("item_owner_id_cascade_fkey", "item", type_="foreignkey")
