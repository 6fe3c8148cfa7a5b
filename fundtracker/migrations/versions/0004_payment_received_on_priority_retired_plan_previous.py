"""payments.received_on, priorities.retired, plans.previous_id (versions of a plan)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, never a batch copy: copying plans or payments would drop
    # the old table with foreign keys on, and its cascades would delete priorities and weights.
    # A received payment recorded before this revision has no known day of receipt.
    op.add_column("payments", sa.Column("received_on", sa.Date(), nullable=True))
    # Every priority existing before this revision is in use; the default stays (SQLite adds
    # a NOT NULL column only with one) and every insert gives the value anyway.
    op.add_column(
        "priorities",
        sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("plans", sa.Column("previous_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("previous_id")
    with op.batch_alter_table("priorities", schema=None) as batch_op:
        batch_op.drop_column("retired")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("received_on")
