"""Green (v2), expand: add users.full_name and keep it in sync with users.name.

Blue (v1) keeps reading and writing `name`; green (v2) reads and writes
`full_name`. A BEFORE INSERT OR UPDATE trigger copies whichever column a writer
set into the other, so both versions see the same data while they run side by
side. Rows written before this revision are copied by 0004.

Revision ID: 0003
Revises: 0002
Create Date: 2024-02-12 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade() -> None:
    # Give up (and retry later) rather than queue every query on the table behind our lock.
    op.execute("SET lock_timeout = '500ms'")
    op.add_column("users", sa.Column("full_name", sa.Text, nullable=True))
    op.execute(
        """
        CREATE FUNCTION users_sync_full_name() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                IF NEW.name IS DISTINCT FROM OLD.name AND NEW.full_name IS NOT DISTINCT FROM OLD.full_name THEN
                    NEW.full_name := NEW.name;         -- blue renamed the user
                ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name AND NEW.name IS NOT DISTINCT FROM OLD.name THEN
                    NEW.name := NEW.full_name;         -- green renamed the user
                END IF;
            END IF;
            NEW.full_name := COALESCE(NEW.full_name, NEW.name);  -- blue inserts name only
            NEW.name := COALESCE(NEW.name, NEW.full_name);       -- green inserts full_name only
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


def downgrade() -> None:
    op.execute("DROP TRIGGER users_sync_full_name ON users")
    op.execute("DROP FUNCTION users_sync_full_name()")
    op.drop_column("users", "full_name")
