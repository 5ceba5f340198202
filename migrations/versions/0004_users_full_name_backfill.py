"""Green (v2), migrate: copy users.name into full_name for the rows written before 0003.

Online the backfill runs in batches of ids, each committed on its own
(`autocommit_block`) together with its checkpoint (migrator.backfill), so no
long transaction holds row locks or bloats the table, and a killed run resumes
after the last committed batch; rows that blue writes meanwhile are already
synced by 0003's trigger. Offline (`alembic upgrade --sql`, `migrator
classify`) there is no database to size the batches, so it renders one
statement with the same effect; it is idempotent and can be re-run.

Revision ID: 0004
Revises: 0003
Create Date: 2024-02-12 10:05:00

"""
from alembic import op

from migrator.backfill import backfill

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

phase = "migrate"

BATCH_SIZE = 10_000


# Reviewed: only the offline rendering is one statement; online, upgrade() commits a batch at a time.
# migrator: ignore M203 reason: online the backfill runs in committed batches of BATCH_SIZE ids


def upgrade() -> None:
    with op.get_context().autocommit_block():  # outside the DDL transaction: each batch commits
        # offline op.get_bind() is None: backfill renders one UPDATE instead
        backfill(op.get_bind(), "users", "full_name = name", where="full_name IS NULL", batch_size=BATCH_SIZE)


def downgrade() -> None:
    pass  # the copied values are harmless: 0003's downgrade drops the column
