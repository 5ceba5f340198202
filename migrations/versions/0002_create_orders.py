"""Blue (v1): create orders, one user has many.

Revision ID: 0002
Revises: 0001
Create Date: 2024-01-08 09:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

phase = "expand"


def upgrade() -> None:
    # Give up (and retry later) rather than queue every query on the table behind our lock.
    op.execute("SET lock_timeout = '500ms'")
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("total_cents", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    # A new, empty table: a plain CREATE INDEX blocks no one.
    op.create_index("ix_orders_user_id", "orders", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_user_id", table_name="orders")
    op.drop_table("orders")
