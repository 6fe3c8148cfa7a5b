"""search_text case-folded by Python, not the database's lower() (issue 17)

SQLite's lower() folds ASCII letters only, so a line from "CAFÉ LTD" or "ŁÓDŹ" kept "cafÉ"
and "Łódź"'s capitals in its search text and no spelling found it. The column becomes a plain
one that the program fills with str.casefold() of the same fields, on SQLite and PostgreSQL
alike. No batch copy of spend_lines: the generated column is dropped (after the index that
holds it) and a plain one added, then every existing line's text is folded here in Python.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:59:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS = ("supplier", "description", "reference", "cost_centre", "account_code", "notes")
INDEX_COLUMNS = ["grant_id", "date", "id", "search_text", "net", "vat"]
BATCH = 5000


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_spend_grant_date", table_name="spend_lines")
    op.drop_column("spend_lines", "search_text")
    # SQLite adds a NOT NULL column only with a default (which it keeps); every write gives
    # the value, as with counted_on in 0002.
    op.add_column(
        "spend_lines",
        sa.Column(
            "search_text",
            sa.Text(),
            nullable=not sqlite,
            server_default=sa.text("''") if sqlite else None,
        ),
    )
    _fold_existing_lines()
    if not sqlite:
        op.alter_column("spend_lines", "search_text", existing_type=sa.Text(), nullable=False)
    op.create_index("ix_spend_grant_date", "spend_lines", INDEX_COLUMNS, unique=False)


def _fold_existing_lines() -> None:
    """The same text as fundtracker.models.search_text_of (migrations never import models)."""
    bind = op.get_bind()
    lines = sa.table("spend_lines", sa.column("id"), sa.column("search_text"),
                     *(sa.column(name) for name in FIELDS))  # fmt: skip
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(lines.c.id, *(lines.c[name] for name in FIELDS))
            .where(lines.c.id > last_id)
            .order_by(lines.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        folded = [
            {"line_id": row[0], "text": " ".join(str(v or "") for v in row[1:]).casefold()}
            for row in rows
        ]
        bind.execute(
            lines.update()
            .where(lines.c.id == sa.bindparam("line_id"))
            .values(search_text=sa.bindparam("text")),
            folded,
        )
        last_id = rows[-1][0]


def downgrade() -> None:
    """Back to the database's own lower() (SQLite can add a generated column only as a
    VIRTUAL one, which reads the same)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_spend_grant_date", table_name="spend_lines")
    op.drop_column("spend_lines", "search_text")
    expression = "lower(" + " || ' ' || ".join(FIELDS) + ")"
    op.add_column(
        "spend_lines",
        sa.Column("search_text", sa.Text(), sa.Computed(expression, persisted=not sqlite)),
    )
    op.create_index("ix_spend_grant_date", "spend_lines", INDEX_COLUMNS, unique=False)
