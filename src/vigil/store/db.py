"""Opening the database and bringing its schema up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from vigil.store.dialects import dialect_of

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Connections each process keeps open, and how many more it opens (and closes after) when
# they are all in use. The API answers its plain routes on up to 40 threads (anyio's default);
# past the pool a connection is opened and closed per request, which cost a busy node 5% of
# its time on SQLite and a server process per connection on PostgreSQL. PostgreSQL's pool is
# smaller: its connections are server processes, and `max_connections` (100 by default) is
# shared by every process of a cluster (docs/scale.md).
SQLITE_POOL = {"pool_size": 40, "max_overflow": 10}
POSTGRESQL_POOL = {"pool_size": 20, "max_overflow": 10}


def make_engine(url: str, *, busy_timeout_ms: int = 5000) -> sa.Engine:
    """An engine for `url`. For SQLite: WAL (readers never block the writer), a busy timeout
    (a short lock by another connection waits instead of failing), foreign keys enforced."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # preserve_rowcount: with SQLAlchemy 2.1 and psycopg 3.3 an INSERT's `rowcount` reads
        # -1 unless captured right after execution, and "inserted or not" relies on it.
        engine = sa.create_engine(
            parsed,
            pool_pre_ping=True,
            execution_options={"preserve_rowcount": True},
            **POSTGRESQL_POOL,
        )
        dialect_of(engine)  # refuse an unsupported database now, not at the first write
        return engine
    if not parsed.database or parsed.database == ":memory:":
        # Each pooled connection would get its own empty database: the sink would write where
        # the API never reads.
        raise ValueError(f"{url}: an in-memory SQLite database cannot be shared; use a file path")
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, **SQLITE_POOL)
    dialect_of(engine)  # refuse an unsupported database now, not at the first write

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def dialect_insert(engine: sa.Engine, table: sa.Table) -> Any:
    """An INSERT that supports ON CONFLICT for this engine's dialect (SQLite or PostgreSQL)."""
    return dialect_of(engine).insert(table)


def migrate(engine: sa.Engine) -> None:
    """Run the Alembic migrations up to head on `engine`, in one transaction. Processes that
    start together (a cluster's nodes, a server and a CLI command) take turns; those after
    the first find nothing left to do."""
    with dialect_of(engine).migration_turn(engine):
        _upgrade(engine)


def _upgrade(engine: sa.Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    dialect = dialect_of(engine)
    with engine.begin() as connection:
        dialect.migrating(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        dialect.migrated(connection)
