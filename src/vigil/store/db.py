"""Opening the database and bringing its schema up to date."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x56494749  # "VIGI": the advisory lock key that serialises migrations


def make_engine(url: str, *, busy_timeout_ms: int = 5000) -> sa.Engine:
    """An engine for `url`. For SQLite: WAL (readers never block the writer), a busy timeout
    (a short lock by another connection waits instead of failing), foreign keys enforced."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # preserve_rowcount: with SQLAlchemy 2.1 and psycopg 3.3 an INSERT's `rowcount` reads
        # -1 unless captured right after execution, and "inserted or not" relies on it.
        return sa.create_engine(
            parsed, pool_pre_ping=True, execution_options={"preserve_rowcount": True}
        )
    if not parsed.database or parsed.database == ":memory:":
        # Each pooled connection would get its own empty database: the sink would write where
        # the API never reads.
        raise ValueError(f"{url}: an in-memory SQLite database cannot be shared; use a file path")
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed)

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
    name = engine.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise ValueError(f"unsupported database {name!r}: use sqlite or postgresql")


def migrate(engine: sa.Engine) -> None:
    """Run the Alembic migrations up to head on `engine`, in one transaction. Processes that
    start together (a cluster's nodes, a server and a CLI command) take turns; those after
    the first find nothing left to do."""
    with _migration_turn(engine):
        _upgrade(engine)


@contextmanager
def _migration_turn(engine: sa.Engine) -> Iterator[None]:
    if engine.dialect.name != "sqlite":
        yield  # PostgreSQL: an advisory lock inside the migration's transaction
        return
    database = engine.url.database
    assert database, "make_engine refuses SQLite without a file"
    with open(f"{database}.migrate-lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _upgrade(engine: sa.Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # The lock ends with the transaction.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        if connection.dialect.name == "postgresql":
            # PostgreSQL only: events partitioned by day (vigil.store.postgres).
            from vigil.store.postgres import partition_events

            partition_events(connection)
