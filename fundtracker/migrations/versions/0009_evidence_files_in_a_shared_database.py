"""evidence files in a shared database (issue 17)

On PostgreSQL evidence was copied into the attaching officer's own data folder, which no
colleague reaches: their evidence pack failed. A shared database keeps each file's bytes in
evidence_files, under its SHA-256, in the same transaction as the attachment. A SQLite
database keeps them in the evidence folder beside it, as before (its backups carry them).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_evidence_files")),
    )


def downgrade() -> None:
    op.drop_table("evidence_files")
