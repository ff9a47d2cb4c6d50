"""Alembic environment: migrations run programmatically on a connection the store hands over."""

from __future__ import annotations

from alembic import context

from vigil.store.dialects import dialect_of
from vigil.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through EventStore.migrate(), which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds tables when a later
    # migration needs it.
    render_as_batch=dialect_of(connection).batch_migrations,
)
with context.begin_transaction():
    context.run_migrations()
