"""Green (v2), expand -- BROKEN on purpose: a trigger requires the note blue never writes.

Every statement is additive, so the classifier calls it expand; blue's inserts fail at runtime.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade() -> None:
    op.add_column("items", sa.Column("note", sa.Text, nullable=True))
    op.execute(
        """
        CREATE FUNCTION items_require_note() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.note IS NULL THEN
                RAISE EXCEPTION 'items.note is required';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute("CREATE TRIGGER items_require_note BEFORE INSERT OR UPDATE ON items "
               "FOR EACH ROW EXECUTE FUNCTION items_require_note()")


def downgrade() -> None:
    op.execute("DROP TRIGGER items_require_note ON items")
    op.execute("DROP FUNCTION items_require_note()")
    op.drop_column("items", "note")
