"""grant closed_at (year end), import_exclusions (other funds' lines)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:53:53.135484
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("supplier", sa.String(length=300), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("vat", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excluded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_import_exclusions_grant_id_grants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_exclusions")),
        sa.UniqueConstraint("grant_id", "fingerprint", name=op.f("uq_import_exclusions_grant_id")),
    )
    op.create_index(
        op.f("ix_import_exclusions_grant_id"), "import_exclusions", ["grant_id"], unique=False
    )
    # Plain ALTER TABLE ADD COLUMN, never a batch copy of grants (its cascades would empty
    # the tables that refer to it). A nullable column needs no default.
    op.add_column("grants", sa.Column("closed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
    op.drop_index(op.f("ix_import_exclusions_grant_id"), table_name="import_exclusions")
    op.drop_table("import_exclusions")
