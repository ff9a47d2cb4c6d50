"""What differs between SQLite and PostgreSQL, behind one object per database, chosen once from
the engine (`dialect_of`) instead of `dialect.name` checks spread over the store.

SQLite is the embedded default (one process, one file, a file lock between processes);
PostgreSQL is the scale-out side (many nodes, advisory locks, the events table partitioned by
day and written with binary COPY: `store/postgres.py`).
"""

from __future__ import annotations

import fcntl
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
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

    def sql(self, expression: sa.ColumnElement[Any]) -> str:
        """An expression without parameters as this database's SQL text."""
        module: Any = sqlite if self.name == "sqlite" else postgresql
        return str(expression.compile(dialect=module.dialect()))

    @abstractmethod
    @contextmanager
    def migration_turn(self, engine: sa.Engine) -> Iterator[None]:
        """Held around a migration so that processes starting together take turns."""

    def migrating(self, connection: sa.Connection) -> None:
        """Inside the migration's transaction, before the upgrade."""
        return None

    @abstractmethod
    def write_turn(self, connection: sa.Connection, key: int) -> None:
        """First in a transaction that reads what it is about to extend (the audit chain's
        head): waits until no other transaction taking the turn of `key`, in any process,
        is in progress, and holds the turn until this one ends. Without it two processes
        read the same head and one of them must start again."""

    def migrated(self, connection: sa.Connection) -> None:
        """Inside the migration's transaction, after the upgrade to head."""
        return None

    # JSON built by the database: a row rendered by the query that reads it, so that the API
    # answers a page without a Python object per row (store/events.py, `page_json`).
    @abstractmethod
    def json_object(self, fields: Mapping[str, sa.ColumnElement[Any]]) -> sa.ColumnElement[Any]:
        """A JSON object of `fields`, in their order; a value that is itself a `json_object`,
        `json_float` or `json_column` is nested as JSON."""

    @abstractmethod
    def json_float(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """A floating-point value as a JSON number that parses back to the same double."""

    @abstractmethod
    def json_column(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """A JSON column's value nested as JSON (not as a string holding it)."""

    @abstractmethod
    def json_text(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
        """A JSON value as the text the query returns."""


def _key(name: str) -> sa.ColumnElement[str]:
    """An object key inlined as an SQL literal: keys come from code, never from a request."""
    if not name.isidentifier():
        raise ValueError(f"not a JSON key Vigil builds: {name!r}")
    return sa.literal_column(f"'{name}'")


def _pairs(fields: Mapping[str, sa.ColumnElement[Any]]) -> list[sa.ColumnElement[Any]]:
    return [part for name, value in fields.items() for part in (_key(name), value)]


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

    def write_turn(self, connection: sa.Connection, key: int) -> None:
        # The database's one write lock, taken before the first read (SQLite has no finer
        # lock); a writer holding it is waited for up to the busy timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def json_object(self, fields: Mapping[str, sa.ColumnElement[Any]]) -> sa.ColumnElement[Any]:
        return sa.func.json_object(*_pairs(fields))

    def json_float(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        # json_object prints a REAL with 15 significant digits, so a score converted from
        # float32 (0.8700000047683716) would come back as another number. 17 digits identify
        # every double (SQLite's printf with `!` is exact to them in every finite double
        # tested but the very largest, which no score, dwell time or coordinate comes near).
        printed = sa.func.json(sa.func.printf(sa.literal_column("'%!.17g'"), value))
        return sa.case((value.is_(None), sa.null()), else_=printed)

    def json_column(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.func.json(column)

    def json_text(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
        return value  # SQLite's JSON is text already


class PostgresDialect(Dialect):
    name = "postgresql"
    batch_migrations = False
    shared = True
    partitioned_events = True

    @contextmanager
    def migration_turn(self, engine: sa.Engine) -> Iterator[None]:
        yield  # an advisory lock inside the migration's transaction: `migrating`

    def json_object(self, fields: Mapping[str, sa.ColumnElement[Any]]) -> sa.ColumnElement[Any]:
        return sa.func.json_build_object(*_pairs(fields), type_=postgresql.JSON)

    def json_float(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return value  # a double prints as the shortest text that parses back to it

    def json_column(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return column

    def json_text(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
        return sa.cast(value, sa.Text)  # psycopg would parse json into Python objects

    def write_turn(self, connection: sa.Connection, key: int) -> None:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def migrating(self, connection: sa.Connection) -> None:
        self.write_turn(connection, MIGRATION_LOCK)  # ends with the transaction

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
