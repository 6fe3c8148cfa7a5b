"""Alembic environment: migrations run on the connection Fundtracker opened."""

from alembic import context

from fundtracker.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Fundtracker runs its migrations itself: open the database with fundtracker")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
