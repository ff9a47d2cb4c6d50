"""A real app over a real store (SQLite, or PostgreSQL: tests/databases.py), media directory
and MemoryBus.

The pipeline is `StaticEngine`, a tiny in-memory implementation of EngineControl for
route-level tests only: cameras in a dict and one real JPEG per camera (made with
cv2.imencode). End-to-end tests with the real engine live elsewhere.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.databases import database_url
from vigil.alerts.service import AlertService
from vigil.api import create_app
from vigil.auth.deps import optional_principal
from vigil.auth.principal import internal_principal
from vigil.bus import Bus, MemoryBus
from vigil.config import CameraConfig, VigilConfig, parse_config
from vigil.domain.events import Event, EventState, ObjectInfo, uuid7
from vigil.domain.frames import CameraStatus
from vigil.pipeline.control import EngineControl, PipelineMetric
from vigil.runtime import api_services
from vigil.store import EventSink, EventStore, LocalMediaStore
from vigil.store.media import MediaStore

BASE_MS = 1_795_000_000_000


class StaticEngine:
    """EngineControl over fixed frames: what a route sees, without decoding or inference."""

    attributes = None  # no pipeline here to apply person-colour choices
    recording = None  # nor cameras to record

    def __init__(self, cameras: list[CameraConfig]) -> None:
        self._cameras = {camera.id: camera for camera in cameras}
        self._frames: dict[str, tuple[np.ndarray, int]] = {}
        self._lock = threading.Lock()
        self.live_calls = 0

    def set_frame(self, camera_id: str, ts_ms: int, width: int = 320, height: int = 240) -> None:
        gradient = np.linspace(0, 255, width, dtype=np.uint8)
        image = np.dstack([np.tile(gradient, (height, 1))] * 3)
        cv2.putText(image, str(ts_ms)[-6:], (10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 1,
                    (0, 0, 255), 2)
        with self._lock:
            self._frames[camera_id] = (image, ts_ms)

    def cameras(self) -> list[CameraConfig]:
        with self._lock:
            return list(self._cameras.values())

    def status(self, camera_id: str) -> CameraStatus | None:
        with self._lock:
            camera = self._cameras.get(camera_id)
            frame = self._frames.get(camera_id)
        if camera is None:
            return None
        height, width = frame[0].shape[:2] if frame else (None, None)
        return CameraStatus(
            camera_id=camera.id, name=camera.name, tenant=camera.tenant, online=frame is not None,
            input_fps=25.0, analysed_fps=5.0, lag_ms=120.0, dropped_frames=3, reconnects=1,
            last_error=None, width=width, height=height,
            extra={"queue_depth": 2.0, "Bad-Name": 1.0},
        )

    def statuses(self) -> list[CameraStatus]:
        return [s for c in self.cameras() if (s := self.status(c.id)) is not None]

    def add_camera(self, camera: CameraConfig) -> None:
        with self._lock:
            if camera.id in self._cameras:
                raise KeyError(camera.id)
            self._cameras[camera.id] = camera

    def replace_camera(self, camera: CameraConfig) -> None:
        with self._lock:
            if camera.id not in self._cameras:
                raise KeyError(camera.id)
            self._cameras[camera.id] = camera

    def remove_camera(self, camera_id: str) -> None:
        with self._lock:
            del self._cameras[camera_id]
            self._frames.pop(camera_id, None)

    def live_jpeg(
        self, camera_id: str, *, overlay: bool = True, max_width: int | None = None
    ) -> tuple[bytes, int] | None:
        with self._lock:
            self.live_calls += 1
            if camera_id not in self._cameras:
                raise KeyError(camera_id)
            frame = self._frames.get(camera_id)
        if frame is None:
            return None
        image, ts_ms = frame[0].copy(), frame[1]
        if overlay:
            cv2.rectangle(image, (20, 20), (120, 120), (0, 255, 0), 2)
        if max_width is not None and image.shape[1] > max_width:
            height = round(image.shape[0] * max_width / image.shape[1])
            image = cv2.resize(image, (max_width, height), interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", image)
        assert ok
        return encoded.tobytes(), ts_ms

    def pipeline_metrics(self) -> dict[str, PipelineMetric]:
        return {"inference_frames": PipelineMetric("counter", "Frames through inference", 42)}

    def module_stats(self, camera_id: str) -> dict[str, Any]:
        if camera_id not in self._cameras:
            raise KeyError(camera_id)
        return {
            "line": {"door": {"person": {"in": 3, "out": 5}}},
            "zone": {"lot": {"occupancy": 2, "entries": 17}},
        }


CONFIG = {
    "cameras": [
        {
            "id": "gate",
            "name": "Main gate",
            "url": "rtsp://admin:s3cret@10.0.0.5:554/stream1?token=abc&channel=1",
            "zones": [{"name": "lot", "polygon": [[0, 0], [100, 0], [100, 100]]}],
            "lines": [{"name": "door", "start": [0, 50], "end": [100, 50]}],
            "modules": {"line": {}, "zone": {}},
        },
        {"id": "harbour:dock", "tenant": "harbour", "url": "media/dock.mp4"},
    ]
}


def build_event(
    *,
    start_ms: int = BASE_MS,
    camera_id: str = "gate",
    tenant: str = "default",
    type: str = "line.crossing",
    class_name: str = "person",
    line: str | None = "door",
    direction: str | None = "in",
    zone: str | None = None,
    state: EventState = EventState.ENDED,
    **fields: Any,
) -> Event:
    return Event(
        id=uuid7(start_ms),
        tenant=tenant,
        camera_id=camera_id,
        camera_name=camera_id.title(),
        module=type.split(".")[0],
        type=type,
        state=state,
        object=ObjectInfo(class_name=class_name, class_id=0, track_id=4, score=0.9,
                          box=(1.0, 2.0, 30.0, 40.0)),
        line=line,
        direction=direction,
        zone=zone,
        start_ms=start_ms,
        end_ms=start_ms if state is EventState.ENDED else None,
        updated_ms=start_ms,
        **fields,
    )


@pytest.fixture
def make_event() -> Callable[..., Event]:
    return build_event


@pytest.fixture
def config(tmp_path: Path) -> VigilConfig:
    config = parse_config(CONFIG)
    # Where the app keeps files beside the store (the search index of a PostgreSQL store).
    config.store.media_dir = tmp_path / "media"
    return config


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    event_store = EventStore(database_url(tmp_path))
    yield event_store
    event_store.close()


@pytest.fixture
def media(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
def engine(config: VigilConfig) -> StaticEngine:
    return StaticEngine(config.cameras)


def api_app(
    config: VigilConfig,
    engine: EngineControl,
    store: EventStore,
    media: MediaStore,
    bus: Bus,
    *,
    sink: EventSink | None = None,
    alerts: AlertService | None = None,
) -> FastAPI:
    """The API app composed as `vigil serve` composes it (vigil.runtime), over `store`
    migrated first, as the runtime's `open_store` does."""
    store.migrate()
    services = api_services(config, engine, store, media, alerts=alerts)
    return create_app(config, engine, store, media, bus, services, sink=sink)


@pytest.fixture
def app(
    config: VigilConfig, engine: StaticEngine, store: EventStore, media: LocalMediaStore,
    bus: MemoryBus,
) -> FastAPI:
    # As `vigil serve` does at start: the config file's cameras are recorded in the store.
    store.migrate()
    store.sync_config_cameras(config.cameras)
    return trust(api_app(config, engine, store, media, bus))


def trust(app: FastAPI) -> FastAPI:
    """Route tests call as an unrestricted internal principal (every tenant, every
    permission); what users of each role and tenant may do is tested in tests/security."""
    app.dependency_overrides[optional_principal] = lambda: internal_principal("tests")
    return app


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app on a real uvicorn server on a free 127.0.0.1 port (streaming needs a socket)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url
