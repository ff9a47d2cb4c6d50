"""What differs between SQLite and PostgreSQL, behind one object per database, chosen once from
the engine (`dialect_of`) instead of `dialect.name` checks spread over the store.

SQLite is the embedded default (one process, one file, a file lock between processes);
PostgreSQL is the scale-out side (many nodes, advisory locks, the events table partitioned by
day and written with binary COPY: `store/postgres.py`).
"""

from __future__ import annotations

import fcntl
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from vigil.store.count_rollups import install_triggers

MIGRATION_LOCK = 0x56494749  # "VIGI": the advisory lock key that serialises migrations


class Dialect(ABC):
    name: ClassVar[str]
    # Alembic's batch mode: rebuild tables where the database cannot ALTER in place.
    batch_migrations: ClassVar[bool]
    # Several processes share the database (so scheduled jobs elect one of them).
    shared: ClassVar[bool]
    # The events table is partitioned by day and bulk-written with COPY (store/postgres.py).
    partitioned_events: ClassVar[bool]

    def insert(self, table: sa.Table) -> Any:
        """An INSERT that supports ON CONFLICT."""
        module: Any = sqlite if self.name == "sqlite" else postgresql
        return module.insert(table)

    @abstractmethod
    @contextmanager
    def migration_turn(self, engine: sa.Engine) -> Iterator[None]:
        """Held around a migration so that processes starting together take turns."""

    def migrating(self, connection: sa.Connection) -> None:
        """Inside the migration's transaction, before the upgrade."""
        return None

    def migrated(self, connection: sa.Connection) -> None:
        """Inside the migration's transaction, after the upgrade to head."""
        return None


class SqliteDialect(Dialect):
    name = "sqlite"
    batch_migrations = True
    shared = False
    partitioned_events = False

    @contextmanager
    def migration_turn(self, engine: sa.Engine) -> Iterator[None]:
        database = engine.url.database
        assert database, "make_engine refuses SQLite without a file"
        with open(f"{database}.migrate-lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class PostgresDialect(Dialect):
    name = "postgresql"
    batch_migrations = False
    shared = True
    partitioned_events = True

    @contextmanager
    def migration_turn(self, engine: sa.Engine) -> Iterator[None]:
        yield  # an advisory lock inside the migration's transaction: `migrating`

    def migrating(self, connection: sa.Connection) -> None:
        # The lock ends with the transaction.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})

    def migrated(self, connection: sa.Connection) -> None:
        from vigil.store.postgres import partition_events

        if partition_events(connection):
            install_triggers(connection)  # the replaced table took its triggers with it


_DIALECTS: dict[str, Dialect] = {d.name: d for d in (SqliteDialect(), PostgresDialect())}


def dialect_of(bind: sa.Engine | sa.Connection) -> Dialect:
    """The dialect of an engine or connection; ValueError for a database Vigil does not
    support."""
    name = bind.dialect.name
    try:
        return _DIALECTS[name]
    except KeyError:
        raise ValueError(f"unsupported database {name!r}: use sqlite or postgresql") from None
