"""Green (v2), expand -- BROKEN on purpose: requires full_name, which blue never writes.

Every statement is additive, so the classifier calls it expand. But the trigger
rejects any INSERT or UPDATE that leaves full_name NULL, and blue (v1) writes
only `name`: blue's inserts fail the moment this revision runs.

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
    op.execute("SET lock_timeout = '500ms'")
    op.add_column("users", sa.Column("full_name", sa.Text, nullable=True))
    op.execute(
        """
        CREATE FUNCTION users_require_full_name() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.full_name IS NULL THEN
                RAISE EXCEPTION 'users.full_name is required';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_require_full_name
            BEFORE INSERT OR UPDATE ON users
            FOR EACH ROW EXECUTE FUNCTION users_require_full_name()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_require_full_name ON users")
    op.execute("DROP FUNCTION users_require_full_name()")
    op.drop_column("users", "full_name")
