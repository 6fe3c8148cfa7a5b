"""search_text out of the date index (issue 17)

ix_spend_grant_date carried search_text, every text field of a line in one value, so that a
search could be answered from the index alone. PostgreSQL's btree rows stop at 2,704 bytes:
a description of 2,000 characters with notes of 1,000, inside the app's limits, could not be
saved ("index row size 3048 exceeds btree version 4 maximum 2704"). The index keeps the date,
id and amounts; a search reads the grant's lines in date order through it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_SEARCH_TEXT = ["grant_id", "date", "id", "search_text", "net", "vat"]
WITHOUT = ["grant_id", "date", "id", "net", "vat"]


def upgrade() -> None:
    op.drop_index("ix_spend_grant_date", table_name="spend_lines")
    op.create_index("ix_spend_grant_date", "spend_lines", WITHOUT, unique=False)


def downgrade() -> None:
    op.drop_index("ix_spend_grant_date", table_name="spend_lines")
    op.create_index("ix_spend_grant_date", "spend_lines", WITH_SEARCH_TEXT, unique=False)
