"""Reads the database in upgrade(): cannot render offline (U000, contract)."""
from alembic import op
import sqlalchemy as sa

revision = "l005"
down_revision = "l004"
branch_labels = None
depends_on = None

phase = "migrate"


def upgrade():
    rows = op.get_bind().execute(sa.text("SELECT id FROM accounts WHERE plan IS NULL")).fetchall()
    for (account_id,) in rows:
        op.execute(f"UPDATE accounts SET plan = 'free' WHERE id = {account_id}")


def downgrade():
    pass
