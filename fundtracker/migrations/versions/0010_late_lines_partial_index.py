"""an index of late lines only (issue 13 performance)

LATE_LINES counts the lines counted on a later day than their date. Only late lines have
that, a few in a year, but finding them read every line counted in the period: 0.08 s of
the report and checks over 1,000,000 lines. A partial index holds the late lines alone, so
the check reads just those.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LATE = sa.text("counted_on > date")


def upgrade() -> None:
    op.create_index(
        "ix_spend_late",
        "spend_lines",
        ["grant_id", "counted_on"],
        unique=False,
        sqlite_where=LATE,
        postgresql_where=LATE,
    )


def downgrade() -> None:
    op.drop_index("ix_spend_late", table_name="spend_lines")
