"""A real app over a real store (SQLite, or PostgreSQL: tests/databases.py), media directory
and MemoryBus, and the engine of a single node or of a cluster (tests/engines.py).

The pipeline is `StaticEngine`, a tiny in-memory implementation of EngineControl for
route-level tests only: cameras in a dict and one real JPEG per camera (made with
cv2.imencode). On the single node the API holds it directly; in a cluster it is the pipeline
of a real worker behind the API's real `ClusterEngine` (`ClusterUnderTest`). End-to-end tests
with the real analysis live elsewhere.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
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
from tests.engines import on_cluster
from tests.nats_server import running_nats
from tests.waiting import wait_until
from vigil.alerts.service import AlertService
from vigil.api import create_app
from vigil.auth.deps import optional_principal
from vigil.auth.principal import internal_principal
from vigil.bus import Bus, MemoryBus
from vigil.bus.nats import NatsBus
from vigil.cluster import remote
from vigil.cluster.registry import ClusterRegistry
from vigil.cluster.remote import ClusterEngine
from vigil.cluster.worker import Worker
from vigil.config import CameraConfig, ClusterConfig, VigilConfig, parse_config
from vigil.domain.events import Event, EventState, ObjectInfo, uuid7
from vigil.domain.frames import CameraStatus
from vigil.pipeline.control import EngineControl, PipelineMetric
from vigil.pipeline.ptz_geometry import analysed_at
from vigil.privacy.masks import AttributePolicy
from vigil.runtime import api_services
from vigil.store import EventSink, EventStore, LocalMediaStore
from vigil.store.media import MediaStore

BASE_MS = 1_795_000_000_000


class StaticEngine:
    """EngineControl over fixed frames: what a route sees, without decoding or inference."""

    # No pipeline here to apply person-colour choices (a cluster worker's gets a policy).
    attributes: AttributePolicy | None = None
    recording = None  # nor cameras to record

    def __init__(self, cameras: list[CameraConfig]) -> None:
        self._cameras = {camera.id: camera for camera in cameras}
        self._frames: dict[str, tuple[np.ndarray, int]] = {}
        self._lock = threading.Lock()
        self.live_calls = 0

    def set_frame(self, camera_id: str, ts_ms: int, width: int = 320, height: int = 240) -> None:
        gradient = np.linspace(0, 255, width, dtype=np.uint8)
        image = np.dstack([np.tile(gradient, (height, 1))] * 3)
        cv2.putText(
            image, str(ts_ms)[-6:], (10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 255), 2
        )
        with self._lock:
            self._frames[camera_id] = (image, ts_ms)

    def start(self, cameras: Iterable[CameraConfig]) -> None:
        for camera in cameras:
            self.add_camera(camera)

    def stop(self) -> None:
        with self._lock:
            self._cameras.clear()

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
            camera_id=camera.id,
            name=camera.name,
            tenant=camera.tenant,
            online=frame is not None,
            input_fps=25.0,
            analysed_fps=5.0,
            lag_ms=120.0,
            dropped_frames=3,
            reconnects=1,
            last_error=None,
            width=width,
            height=height,
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

    def analyse_as(
        self,
        camera: CameraConfig,
        preset: str | None,
        paused: bool,
        resume_after_s: float | None = None,
    ) -> None:
        self.replace_camera(analysed_at(camera, preset, paused))

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


# A round every 0.1 s keeps the tests' waits short; 5 s of silence before a camera moves is
# far longer than any pause of a busy CI machine.
HEARTBEAT_S, TTL_S = 0.1, 5.0
_prefixes = itertools.count()


class ClusterUnderTest(ClusterEngine):
    """The API node's real `ClusterEngine` over real NATS, and one real worker (in a thread)
    whose pipeline is a `StaticEngine`: cameras reach it through the store and its leases,
    statuses through its heartbeats, live frames and counters by request/reply.

    `set_frame` and `live_calls` act on the worker's pipeline, so tests read the same on
    either engine; `set_frame` returns once the API sees the frame's camera online."""

    def __init__(self, nats_url: str, config: VigilConfig, store: EventStore) -> None:
        prefix = f"api{next(_prefixes)}"
        # Two connections, as an API node and a worker process each have their own.
        self._buses = [NatsBus(nats_url, prefix=prefix), NatsBus(nats_url, prefix=prefix)]
        api_bus, worker_bus = self._buses
        super().__init__(store, api_bus, ClusterRegistry(api_bus, ttl_s=TTL_S))
        self.pipeline = StaticEngine([])
        self.pipeline.attributes = AttributePolicy(config.privacy.person_colors)
        cluster = ClusterConfig(worker_id="worker", heartbeat_s=HEARTBEAT_S, ttl_s=TTL_S)
        self.worker = Worker(
            config.model_copy(update={"cluster": cluster}),
            engine=self.pipeline,  # type: ignore[arg-type]  # a LocalEngine in production
            store=store,
            bus=worker_bus,
            registry=ClusterRegistry(worker_bus, ttl_s=TTL_S),
        )
        # As `vigil serve` does at start on an API node: the config file's cameras are
        # recorded in the store, where the worker finds them.
        store.migrate()
        store.sync_config_cameras(config.cameras)
        self.worker.start()
        self.settle()

    def settle(self) -> None:
        """Wait until the worker runs every enabled camera and the API sees their status."""

        def settled() -> bool:
            wanted = {camera.id for camera in self.cameras()}
            shown = {status.camera_id for status in self.statuses()}
            return set(self.worker.cameras) == wanted and shown == wanted

        wait_until(settled, what="the worker to run the store's cameras")

    def set_frame(self, camera_id: str, ts_ms: int, width: int = 320, height: int = 240) -> None:
        wait_until(lambda: camera_id in self.worker.cameras, what=f"the worker to run {camera_id}")
        self.pipeline.set_frame(camera_id, ts_ms, width, height)

        def shown() -> bool:
            status = self.status(camera_id)
            return status is not None and status.online and status.width == width

        wait_until(shown, what=f"a heartbeat with {camera_id} online")

    @property
    def live_calls(self) -> int:
        return self.pipeline.live_calls

    def close(self) -> None:
        self.worker.stop()
        for bus in self._buses:
            bus.close()


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
        object=ObjectInfo(
            class_name=class_name, class_id=0, track_id=4, score=0.9, box=(1.0, 2.0, 30.0, 40.0)
        ),
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


@pytest.fixture(scope="session")
def api_nats() -> Iterator[str]:
    """The NATS server of the cluster runs (each test's cluster on its own subject prefix)."""
    with running_nats("api") as server:
        yield server.url


@pytest.fixture
def engine(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    config: VigilConfig,
    store: EventStore,
) -> Iterator[StaticEngine | ClusterUnderTest]:
    """The engine the API talks to: the pipeline itself on a single node, or a cluster's
    engine with a worker running that pipeline (tests/engines.py chooses)."""
    if not on_cluster():
        yield StaticEngine(config.cameras)
        return
    # The API node caches what the workers' heartbeats said for half a second, to spare NATS
    # under fast polling; a test reads it fresh, or it would wait out the cache each time.
    monkeypatch.setattr(remote, "WORKERS_CACHE_S", 0.0)
    cluster = ClusterUnderTest(request.getfixturevalue("api_nats"), config, store)
    try:
        yield cluster
    finally:
        cluster.close()


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
    config: VigilConfig,
    engine: StaticEngine,
    store: EventStore,
    media: LocalMediaStore,
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
