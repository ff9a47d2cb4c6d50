"""Alembic environment: migrations run programmatically on a connection the store hands over."""

from __future__ import annotations

from alembic import context

from vigil.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through EventStore.migrate(), which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds tables when a later
    # migration needs it. PostgreSQL ignores the flag's table copies.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
