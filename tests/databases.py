"""Which database the suite's event stores use: SQLite files (the default) or PostgreSQL.

    VIGIL_TEST_DATABASE=postgresql scripts/test

Every test that builds a store takes its URL from `database_url(directory)`: a SQLite file in
`directory`, or a fresh, empty database in the session's PostgreSQL cluster — the embedded one
that tests/services/fixtures.py starts, or the server VIGIL_TEST_POSTGRES_URL names (its user
needs CREATEDB). A database made during a test is dropped when the test ends, one made for a
module or session fixture when the session ends (tests/conftest.py drives both).

Tests that are about SQLite itself (the file, WAL, `vigil analyze`'s scratch store), or that
open no store at all, carry `@pytest.mark.sqlite_only(reason=...)` and are skipped on
PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

DATABASE_ENV = "VIGIL_TEST_DATABASE"
BACKENDS = ("sqlite", "postgresql")


def backend() -> str:
    """'sqlite' or 'postgresql', from $VIGIL_TEST_DATABASE (default sqlite)."""
    value = os.environ.get(DATABASE_ENV, "").strip().lower() or "sqlite"
    if value not in BACKENDS:
        raise pytest.UsageError(f"{DATABASE_ENV}={value!r}: expected one of {', '.join(BACKENDS)}")
    return value


def on_postgresql() -> bool:
    return backend() == "postgresql"


class _Cluster:
    """Creates and drops the test databases through one AUTOCOMMIT connection pool."""

    def __init__(self, admin_url: str) -> None:
        self.url = sa.make_url(admin_url)
        self.engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", pool_size=1)
        self.created: list[str] = []
        self.counter = itertools.count(1)

    def create(self, name: str) -> str:
        # Unique in the cluster (the pid keeps two sessions on one external server apart) and
        # within PostgreSQL's 63 bytes.
        database = f"vt{os.getpid()}_{next(self.counter)}_{re.sub(r'[^a-z0-9]', '', name.lower())}"
        database = database[:63]
        with self.engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
        self.created.append(database)
        return self.url.set(database=database).render_as_string(hide_password=False)

    def drop_since(self, mark: int) -> None:
        doomed, self.created[mark:] = self.created[mark:], []
        with self.engine.connect() as connection:
            for database in doomed:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))

    def close(self) -> None:
        self.drop_since(0)
        self.engine.dispose()


_cluster: _Cluster | None = None


@contextmanager
def postgres_databases(admin_url: str) -> Iterator[None]:
    """Make `database_url` create databases through `admin_url` (any database of the cluster
    whose user may CREATE DATABASE) until the block ends, then drop what is left."""
    global _cluster
    _cluster = _Cluster(admin_url)
    try:
        yield
    finally:
        cluster, _cluster = _cluster, None
        cluster.close()


def mark() -> int:
    """How many databases exist now; `drop_since(mark)` drops those made after it."""
    return len(_cluster.created) if _cluster is not None else 0


def drop_since(mark: int) -> None:
    if _cluster is not None:
        _cluster.drop_since(mark)


def database_url(directory: Path, name: str = "vigil") -> str:
    """A SQLAlchemy URL for a new, empty event store: `sqlite:///{directory}/{name}.db`, or a
    new database in the session's PostgreSQL cluster when VIGIL_TEST_DATABASE=postgresql."""
    if not on_postgresql():
        return f"sqlite:///{Path(directory) / f'{name}.db'}"
    if _cluster is None:
        raise RuntimeError("PostgreSQL test databases exist only inside a pytest session "
                           "(tests/conftest.py opens the cluster)")
    return _cluster.create(name)
