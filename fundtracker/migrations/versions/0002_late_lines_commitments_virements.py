"""late lines (counted_on), released and invoiced commitments, virements

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:52:08.932978
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "virements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("from_allocation_id", sa.Integer(), nullable=False),
        sa.Column("to_allocation_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("approval", sa.String(length=200), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_allocation_id"],
            ["allocations.id"],
            name=op.f("fk_virements_from_allocation_id_allocations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_virements_grant_id_grants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_allocation_id"],
            ["allocations.id"],
            name=op.f("fk_virements_to_allocation_id_allocations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_virements")),
    )
    op.create_index(op.f("ix_virements_grant_id"), "virements", ["grant_id"], unique=False)

    # Every existing line counts on its own date (no line could be late before this revision).
    # Plain ALTER TABLE ADD COLUMN and CREATE INDEX, never a batch copy of spend_lines (the
    # copy would write its generated search_text column, which SQLite refuses). SQLite adds a
    # NOT NULL column only with a default, which it then keeps; every insert gives the value.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column(
        "spend_lines",
        sa.Column(
            "counted_on",
            sa.Date(),
            nullable=not sqlite,
            server_default=sa.text("'2000-01-01'") if sqlite else None,
        ),
    )
    op.execute("UPDATE spend_lines SET counted_on = date")
    if not sqlite:
        op.alter_column("spend_lines", "counted_on", existing_type=sa.Date(), nullable=False)
    op.add_column("spend_lines", sa.Column("released_on", sa.Date(), nullable=True))
    op.add_column("spend_lines", sa.Column("invoiced_by_id", sa.Integer(), nullable=True))
    op.drop_index("ix_spend_figures", table_name="spend_lines")
    op.create_index(
        "ix_spend_figures",
        "spend_lines",
        [
            "grant_id",
            "allocation_id",
            "status",
            "counted_on",
            "released_on",
            "date",
            "net",
            "vat",
            "vat_recoverable",
        ],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_spend_figures", table_name="spend_lines")
    op.create_index(
        "ix_spend_figures",
        "spend_lines",
        ["grant_id", "allocation_id", "status", "date", "net", "vat", "vat_recoverable"],
        unique=False,
    )
    with op.batch_alter_table("spend_lines", schema=None) as batch_op:
        batch_op.drop_column("invoiced_by_id")
        batch_op.drop_column("released_on")
        batch_op.drop_column("counted_on")
    op.drop_index(op.f("ix_virements_grant_id"), table_name="virements")
    op.drop_table("virements")
