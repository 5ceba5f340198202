"""Replace the integer ids of user and item with the uuid columns

Revision ID: 7a4c2b9e1f05
Revises: d98dd8ec85a3
Create Date: 2024-07-19 04:21:37.117508

"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "7a4c2b9e1f05"
down_revision = "d98dd8ec85a3"
branch_labels = None
depends_on = None


def upgrade():
    # Rows written since the previous revision have no uuid yet
    op.execute('UPDATE "user" SET new_id = gen_random_uuid() WHERE new_id IS NULL')
    op.execute("UPDATE item SET new_id = gen_random_uuid() WHERE new_id IS NULL")
    op.execute(
        'UPDATE item SET new_owner_id = (SELECT new_id FROM "user" WHERE "user".id = item.owner_id) '
        "WHERE new_owner_id IS NULL"
    )

    # Set the new columns as not nullable
    op.alter_column("user", "new_id", nullable=False)
    op.alter_column("item", "new_id", nullable=False)
    op.alter_column("item", "new_owner_id", nullable=False)

    # Drop old columns and rename new columns
    op.drop_constraint("item_owner_id_fkey", "item", type_="foreignkey")
    op.drop_column("item", "owner_id")
    op.alter_column("item", "new_owner_id", new_column_name="owner_id")

    op.drop_column("user", "id")
    op.alter_column("user", "new_id", new_column_name="id")

    op.drop_column("item", "id")
    op.alter_column("item", "new_id", new_column_name="id")

    # Create primary key constraint
    op.create_primary_key("user_pkey", "user", ["id"])
    op.create_primary_key("item_pkey", "item", ["id"])

    # Recreate foreign key constraint
    op.create_foreign_key("item_owner_id_fkey", "item", "user", ["owner_id"], ["id"])


def downgrade():
    # Reverse the upgrade process
    op.add_column("user", sa.Column("old_id", sa.Integer, autoincrement=True))
    op.add_column("item", sa.Column("old_id", sa.Integer, autoincrement=True))
    op.add_column("item", sa.Column("old_owner_id", sa.Integer, nullable=True))

    # Populate the old columns with default values
    # Generate sequences for the integer IDs if not exist
    op.execute('CREATE SEQUENCE IF NOT EXISTS user_id_seq AS INTEGER OWNED BY "user".old_id')
    op.execute("CREATE SEQUENCE IF NOT EXISTS item_id_seq AS INTEGER OWNED BY item.old_id")

    op.execute("SELECT setval('user_id_seq', COALESCE((SELECT MAX(old_id) + 1 FROM \"user\"), 1), false)")
    op.execute("SELECT setval('item_id_seq', COALESCE((SELECT MAX(old_id) + 1 FROM item), 1), false)")

    op.execute("UPDATE \"user\" SET old_id = nextval('user_id_seq')")
    op.execute(
        "UPDATE item SET old_id = nextval('item_id_seq'), "
        'old_owner_id = (SELECT old_id FROM "user" WHERE "user".id = item.owner_id)'
    )

    # Drop new columns and rename old columns back
    op.drop_constraint("item_owner_id_fkey", "item", type_="foreignkey")
    op.drop_column("item", "owner_id")
    op.alter_column("item", "old_owner_id", new_column_name="owner_id")

    op.drop_column("user", "id")
    op.alter_column("user", "old_id", new_column_name="id")

    op.drop_column("item", "id")
    op.alter_column("item", "old_id", new_column_name="id")

    # Create primary key constraint
    op.create_primary_key("user_pkey", "user", ["id"])
    op.create_primary_key("item_pkey", "item", ["id"])

    # Recreate foreign key constraint
    op.create_foreign_key("item_owner_id_fkey", "item", "user", ["owner_id"], ["id"])
