"""`EventStore`: the one object the rest of Vigil uses to reach the database.

Every read takes a `tenants` scope so access control is enforced where the data is; None means
no restriction (single-tenant deployments and internal callers).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from vigil.auth.secrets import SecretBox
from vigil.config import CameraConfig
from vigil.domain.events import Event
from vigil.domain.series_points import SeriesPoint
from vigil.store import cameras as camera_rows
from vigil.store import events as event_rows
from vigil.store import ptz_rows, series_rows
from vigil.store.cameras import Origin, StoredCamera
from vigil.store.db import make_engine, migrate
from vigil.store.ptz_rows import PtzPosition
from vigil.store.query import (
    CountQuery,
    CountRow,
    EventJsonPage,
    EventPage,
    EventQuery,
    SeriesQuery,
    SeriesRow,
)


class EventStore:
    def __init__(
        self, url: str, *, busy_timeout_ms: int = 5000, secrets: SecretBox | None = None
    ) -> None:
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)
        # Camera URLs (which carry credentials) are encrypted at rest when a key is given.
        self.secrets = secrets
        self._on_close: list[Callable[[], None]] = []

    def _seal(self, camera: CameraConfig) -> CameraConfig:
        if self.secrets is None:
            return camera
        main_url = camera.main_url and self.secrets.encrypt(camera.main_url)
        ptz = camera.ptz and camera.ptz.model_copy(
            update={"onvif_url": self.secrets.encrypt(camera.ptz.onvif_url)}
        )
        return camera.model_copy(
            update={"url": self.secrets.encrypt(camera.url), "main_url": main_url, "ptz": ptz}
        )

    def _open(self, stored: StoredCamera) -> StoredCamera:
        if self.secrets is None or not stored.config.url:  # no URL: invalid settings kept
            return stored
        main_url = stored.config.main_url and self.secrets.decrypt(stored.config.main_url)
        ptz = stored.config.ptz and stored.config.ptz.model_copy(
            update={"onvif_url": self.secrets.decrypt(stored.config.ptz.onvif_url)}
        )
        config = stored.config.model_copy(
            update={
                "url": self.secrets.decrypt(stored.config.url),
                "main_url": main_url,
                "ptz": ptz,
            }
        )
        return replace(stored, config=config)

    def migrate(self) -> None:
        """Create or upgrade the schema (Alembic `upgrade head`); safe to call at every start."""
        migrate(self.engine)

    def on_close(self, release: Callable[[], None]) -> None:
        """Run `release` when the store is closed: what was opened for this store (the search
        index beside it) goes with it, not when the process ends."""
        self._on_close.append(release)

    def close(self) -> None:
        while self._on_close:
            self._on_close.pop()()
        self.engine.dispose()

    def upsert_events(self, events: list[Event]) -> int:
        """Write events in one transaction, idempotently by id; returns distinct ids written."""
        return event_rows.upsert(self.engine, events)

    def get_event(self, event_id: str, tenants: Collection[str] | None = None) -> Event | None:
        return event_rows.get(self.engine, event_id, tenants)

    def get_events(
        self, event_ids: Collection[str], tenants: Collection[str] | None = None
    ) -> dict[str, Event]:
        return event_rows.get_many(self.engine, event_ids, tenants)

    def query_events(self, q: EventQuery) -> EventPage:
        return event_rows.query(self.engine, q)

    def query_event_json(self, q: EventQuery) -> EventJsonPage:
        """`query_events` as one JSON array rendered by the database: what the API answers a
        page with."""
        return event_rows.page_json(self.engine, q)

    def counts(self, q: CountQuery) -> list[CountRow]:
        return event_rows.counts(self.engine, q)

    def upsert_series(self, points: list[SeriesPoint]) -> int:
        """Write statistics points in one transaction (replacing partial minutes)."""
        return series_rows.upsert(self.engine, points)

    def query_series(self, q: SeriesQuery) -> list[SeriesRow]:
        return series_rows.query(self.engine, q)

    def list_cameras(self, tenants: Collection[str] | None = None) -> list[StoredCamera]:
        return [self._open(row) for row in camera_rows.list_all(self.engine, tenants)]

    def get_camera(
        self, camera_id: str, tenants: Collection[str] | None = None
    ) -> StoredCamera | None:
        stored = camera_rows.get(self.engine, camera_id, tenants)
        return None if stored is None else self._open(stored)

    def put_camera(self, camera: CameraConfig, origin: Origin) -> None:
        camera_rows.put(self.engine, self._seal(camera), origin)

    def delete_camera(self, camera_id: str) -> bool:
        return camera_rows.delete(self.engine, camera_id)

    def sync_config_cameras(self, declared: Sequence[CameraConfig]) -> list[StoredCamera]:
        sealed = [self._seal(camera) for camera in declared]
        return [self._open(row) for row in camera_rows.sync_config(self.engine, sealed)]

    def put_ptz_position(self, camera_id: str, position: PtzPosition) -> None:
        ptz_rows.put(self.engine, camera_id, position)

    def ptz_positions(self) -> dict[str, PtzPosition]:
        """camera id → where the API last moved it, for the cameras moved since created."""
        return ptz_rows.all_positions(self.engine)
