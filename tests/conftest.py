"""Fixtures shared by the whole suite: bundled files, a demo-like config, and the database
every store of the suite lives in (SQLite, or PostgreSQL with VIGIL_TEST_DATABASE=postgresql;
see tests/databases.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import databases, engines
from tests.databases import database_url
from tests.media import DEMO
from tests.services.fixtures import (  # noqa: F401  (session fixtures)
    postgres_server,
    postgres_url,
    seaweed_server,
)
from vigil.config import ROOT, VigilConfig, load_config
from vigil.modules import registry  # noqa: F401  (installs the module checks configs use)
from vigil.store import EventStore

# Cheap argon2id parameters for the suite (and the servers it starts); see vigil.auth.passwords.
os.environ.setdefault("VIGIL_ARGON2_FAST", "1")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    """A migrated event store on the suite's database (tests/databases.py)."""
    event_store = EventStore(database_url(tmp_path))
    event_store.migrate()
    yield event_store
    event_store.close()


@pytest.fixture
def demo_config(tmp_path: Path) -> VigilConfig:
    """The demo's settings with its store and snapshots in a fresh temporary directory."""
    config = load_config(DEMO)
    config.store.url = database_url(tmp_path)
    config.store.media_dir = tmp_path / "media"
    for camera in config.cameras:
        camera.url = str(ROOT / camera.url)
    return config


def pytest_configure(config: pytest.Config) -> None:
    # Registered here, not in pyproject.toml: scripts/setup reinstalls when that file changes.
    config.addinivalue_line(
        "markers", "sqlite_only(reason): about SQLite itself, or opening no store at all; "
        "skipped when VIGIL_TEST_DATABASE=postgresql",
    )
    config.addinivalue_line(
        "markers", "single_node(reason): needs the engine in the API's process; skipped when "
        "VIGIL_TEST_ENGINE=cluster (tests/engines.py)",
    )
    databases.backend()  # a bad VIGIL_TEST_DATABASE stops the run before it starts
    engines.engine_kind()  # and so does a bad VIGIL_TEST_ENGINE


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skipped = {"sqlite_only": ("SQLite only", databases.on_postgresql()),
               "single_node": ("single-node engine only", engines.on_cluster())}
    for item in items:
        for name, (label, skip) in skipped.items():
            marker = item.get_closest_marker(name)
            if skip and marker is not None:
                reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
                item.add_marker(pytest.mark.skip(reason=f"{label}: {reason}".rstrip(": ")))


@pytest.fixture(scope="session", autouse=True)
def database_cluster(request: pytest.FixtureRequest) -> Iterator[None]:
    """On PostgreSQL runs, the cluster that `database_url` makes databases in (started once)."""
    if not databases.on_postgresql():
        yield
        return
    with databases.postgres_databases(request.getfixturevalue("postgres_url")):
        yield


@pytest.fixture(autouse=True)
def drop_test_databases() -> Iterator[None]:
    """Drop the PostgreSQL databases a test made, when it ends (no-op on SQLite)."""
    mark = databases.mark()
    yield
    databases.drop_since(mark)
