"""Green (v2), contract: blue is gone, so make full_name NOT NULL, stop syncing and drop users.name.

Runs after the switch, when no running code reads or writes `name`.

Revision ID: 0005
Revises: 0004
Create Date: 2024-02-19 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

phase = "contract"


def upgrade() -> None:
    # Give up (and retry later) rather than queue every query on the table behind our lock.
    op.execute("SET lock_timeout = '500ms'")
    # The VALIDATE below commits the first part on its own, so every step is written to be re-runnable
    # (IF EXISTS): a run killed after that commit can simply be run again.
    # SET NOT NULL would scan the table under ACCESS EXCLUSIVE; a validated CHECK proves it first, and
    # VALIDATE scans under SHARE UPDATE EXCLUSIVE in a transaction of its own, without blocking writes.
    op.execute("ALTER TABLE users DROP CONSTRAINT IF EXISTS users_full_name_not_null")
    op.create_check_constraint("users_full_name_not_null", "users", "full_name IS NOT NULL",
                               postgresql_not_valid=True)
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE users VALIDATE CONSTRAINT users_full_name_not_null")
    op.alter_column("users", "full_name", existing_type=sa.Text, nullable=False)
    op.drop_constraint("users_full_name_not_null", "users", type_="check")
    # The sync trigger fills users.name (NOT NULL) for green's inserts: it goes in the same transaction as
    # the column, never before it (green's inserts would fail in between; rule P509).
    op.execute("DROP TRIGGER IF EXISTS users_sync_full_name ON users")
    op.execute("DROP FUNCTION IF EXISTS users_sync_full_name()")
    op.execute("ALTER TABLE users DROP COLUMN IF EXISTS name")


def downgrade() -> None:
    op.add_column("users", sa.Column("name", sa.Text, nullable=True))
    op.execute("UPDATE users SET name = full_name")
    op.alter_column("users", "name", existing_type=sa.Text, nullable=False)
    op.alter_column("users", "full_name", existing_type=sa.Text, nullable=True)
    op.execute(
        """
        CREATE FUNCTION users_sync_full_name() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                IF NEW.name IS DISTINCT FROM OLD.name AND NEW.full_name IS NOT DISTINCT FROM OLD.full_name THEN
                    NEW.full_name := NEW.name;
                ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name AND NEW.name IS NOT DISTINCT FROM OLD.name THEN
                    NEW.name := NEW.full_name;
                END IF;
            END IF;
            NEW.full_name := COALESCE(NEW.full_name, NEW.name);
            NEW.name := COALESCE(NEW.name, NEW.full_name);
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_sync_full_name
            BEFORE INSERT OR UPDATE ON users
            FOR EACH ROW EXECUTE FUNCTION users_sync_full_name()
        """
    )
