"""Workers sharing cameras through a real NATS KV and a real store: every enabled camera runs
on exactly one worker after every round, camera changes follow the store, a worker that joins
takes its share without a camera ever running twice, and a worker cut off from NATS stops its
cameras before their leases can pass to someone else. The engines are recording doubles: what
is tested is who runs what, not the analysis."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vigil.bus.nats import NatsBus
from vigil.cluster.registry import ClusterRegistry
from vigil.cluster.remote import ClusterEngine
from vigil.cluster.rpc import CameraUnavailable, Responder, ask, live_frame
from vigil.cluster.worker import Worker
from vigil.config import CameraConfig, VigilConfig
from vigil.domain.frames import CameraStatus, now_ms
from vigil.pipeline.control import PipelineMetric
from vigil.privacy.masks import AttributePolicy
from vigil.services.nats import NatsServer
from vigil.store import EventStore
from vigil.store.ptz_rows import PtzPosition

_names = itertools.count()


class RecordingEngine:
    """What a worker asks of its engine, recorded."""

    def __init__(self) -> None:
        self.running: dict[str, CameraConfig] = {}
        self.replaced: list[str] = []
        self.attributes = AttributePolicy()

    def start(self, cameras: list[CameraConfig]) -> None:
        for camera in cameras:
            self.add_camera(camera)

    def stop(self) -> None:
        self.running.clear()

    def add_camera(self, camera: CameraConfig) -> None:
        if camera.id in self.running:
            raise KeyError(camera.id)
        self.running[camera.id] = camera

    def replace_camera(self, camera: CameraConfig) -> None:
        self.running[camera.id] = camera
        self.replaced.append(camera.id)

    def remove_camera(self, camera_id: str) -> None:
        del self.running[camera_id]

    def statuses(self) -> list[CameraStatus]:
        return [CameraStatus(camera_id=c.id, name=c.name, tenant=c.tenant, online=True,
                             input_fps=5.0, analysed_fps=5.0, lag_ms=0.0, dropped_frames=0,
                             reconnects=0, last_error=None) for c in self.running.values()]

    def pipeline_metrics(self) -> dict[str, PipelineMetric]:
        return {"inference_frames": PipelineMetric("counter", "Frames", 10.0 * len(self.running))}

    def live_jpeg(self, camera_id: str, *, overlay: bool = True,
                  max_width: int | None = None) -> tuple[bytes, int] | None:
        if camera_id not in self.running:
            raise KeyError(camera_id)
        return b"\xff\xd8" + f"{camera_id}:{overlay}:{max_width}".encode(), 1234

    def module_stats(self, camera_id: str) -> dict[str, Any]:
        return {"line": {"in": 3}}


@pytest.fixture
def prefix() -> str:
    return f"w{next(_names)}"


def cam(camera_id: str, **changes: Any) -> CameraConfig:
    return CameraConfig(id=camera_id, url="rtsp://127.0.0.1:1/none", **changes)


class Cluster:
    """Workers over one NATS server and one store, driven round by round."""

    def __init__(self, url: str, prefix: str, store: EventStore, ttl_s: float = 30.0) -> None:
        self.url, self.prefix, self.store, self.ttl_s = url, prefix, store, ttl_s
        self.workers: dict[str, Worker] = {}
        self.buses: list[NatsBus] = []

    def add(self, worker_id: str, capacity: int = 16) -> Worker:
        config = VigilConfig.model_validate({"cluster": {
            "worker_id": worker_id, "capacity": capacity, "ttl_s": self.ttl_s,
            "heartbeat_s": min(1.0, self.ttl_s / 3),
        }})
        bus = NatsBus(self.url, prefix=self.prefix)
        self.buses.append(bus)
        worker = Worker(config, engine=RecordingEngine(), store=self.store,  # type: ignore[arg-type]
                        bus=bus, registry=ClusterRegistry(bus, ttl_s=self.ttl_s))
        self.workers[worker_id] = worker
        return worker

    def round(self) -> None:
        for worker in self.workers.values():
            worker.tick()
            self.assert_each_camera_runs_once()

    def running(self) -> dict[str, list[str]]:
        where: dict[str, list[str]] = {}
        for worker in self.workers.values():
            for camera_id in worker.engine.running:  # type: ignore[attr-defined]
                where.setdefault(camera_id, []).append(worker.id)
        return where

    def assert_each_camera_runs_once(self) -> None:
        doubles = {c: w for c, w in self.running().items() if len(w) > 1}
        assert not doubles, f"cameras running on two workers at once: {doubles}"

    def close(self) -> None:
        for bus in self.buses:
            bus.close()


@pytest.fixture
def cluster(nats_server: NatsServer, prefix: str, store: EventStore) -> Iterator[Cluster]:
    cluster = Cluster(nats_server.url, prefix, store)
    yield cluster
    cluster.close()


def test_every_camera_runs_on_exactly_one_worker(cluster: Cluster, store: EventStore) -> None:
    for i in range(8):
        store.put_camera(cam(f"cam-{i}"), "api")
    store.put_camera(cam("off", enabled=False), "api")
    cluster.add("w1")
    cluster.add("w2")
    cluster.round()
    cluster.round()
    running = cluster.running()
    assert set(running) == {f"cam-{i}" for i in range(8)}  # the disabled camera never runs
    assert {len(workers) for workers in running.values()} == {1}
    assert all(w.cameras for w in cluster.workers.values())  # both got a share
    registry = next(iter(cluster.workers.values())).registry
    for camera_id, (worker_id,) in running.items():
        assert registry.owner(camera_id) == worker_id


def test_store_changes_reach_the_owner(cluster: Cluster, store: EventStore) -> None:
    store.put_camera(cam("gate"), "api")
    store.put_camera(cam("dock"), "api")
    cluster.add("w1")
    cluster.round()
    worker = cluster.workers["w1"]
    store.put_camera(cam("gate", name="Main gate"), "api")
    store.delete_camera("dock")
    cluster.round()
    engine: RecordingEngine = worker.engine  # type: ignore[assignment]
    assert engine.replaced == ["gate"] and engine.running["gate"].name == "Main gate"
    assert "dock" not in engine.running
    assert worker.registry.owner("dock") is None  # its lease was released


def test_a_joining_worker_takes_its_share_without_overlap(
    cluster: Cluster, store: EventStore
) -> None:
    for i in range(12):
        store.put_camera(cam(f"cam-{i}"), "api")
    cluster.add("w1")
    cluster.round()
    assert len(cluster.workers["w1"].cameras) == 12
    cluster.add("w2")
    for _ in range(3):  # w1 lets go in one round, w2 takes over in the next
        cluster.round()
    assert len(cluster.running()) == 12
    assert 2 <= len(cluster.workers["w2"].cameras) <= 10


def test_capacity_limits_what_a_worker_takes(cluster: Cluster, store: EventStore) -> None:
    for i in range(5):
        store.put_camera(cam(f"cam-{i}"), "api")
    cluster.add("small", capacity=2)
    cluster.round()
    assert len(cluster.workers["small"].cameras) == 2


def test_a_worker_that_stops_hands_its_cameras_over_at_once(
    cluster: Cluster, store: EventStore
) -> None:
    for i in range(6):
        store.put_camera(cam(f"cam-{i}"), "api")
    cluster.add("w1")
    cluster.add("w2")
    cluster.round()
    cluster.round()
    leaving = cluster.workers.pop("w1")
    leaving.stop()
    cluster.round()
    assert len(cluster.workers["w2"].cameras) == 6


def test_where_a_ptz_camera_points_reaches_its_owner_and_the_next_one(
    cluster: Cluster, store: EventStore
) -> None:
    """The position the API recorded for a moved PTZ camera (ClusterEngine.analyse_as) is
    what its worker analyses, and what the worker taking the camera over starts with."""
    home = {"name": "lot", "polygon": [[10, 10], [300, 10], [300, 200]]}
    gate = {"name": "lot", "polygon": [[400, 300], [700, 300], [700, 550]]}
    store.put_camera(cam(
        "yard", zones=[home], modules={"zone": {"zones": ["lot"]}},
        ptz={"onvif_url": "http://127.0.0.1:8000", "profile": "main",
             "presets": {"2": {"zones": [gate]}}},
    ), "api")
    cluster.add("w1")
    cluster.add("w2")
    cluster.round()
    cluster.round()
    [(owner_id,)] = cluster.running().values()
    owner: RecordingEngine = cluster.workers[owner_id].engine  # type: ignore[assignment]
    store.put_ptz_position("yard", PtzPosition("2", paused=True))
    cluster.round()
    assert owner.running["yard"].modules == {}
    assert [z.polygon[0] for z in owner.running["yard"].zones] == [(400, 300)]

    store.put_ptz_position("yard", PtzPosition("2", paused=False))
    cluster.workers.pop(owner_id).stop()
    cluster.round()
    [(next_id,)] = cluster.running().values()
    taken_over = cluster.workers[next_id].engine.running["yard"]  # type: ignore[attr-defined]
    assert next_id != owner_id and taken_over.modules == {"zone": {"zones": ["lot"]}}
    assert [z.polygon[0] for z in taken_over.zones] == [(400, 300)]


def test_a_moves_pause_ends_by_itself_when_nobody_records_its_end(
    cluster: Cluster, store: EventStore
) -> None:
    """A move pauses the modules until the API node that moved the camera says it settled;
    should that node have stopped first, the pause ends at the time recorded with it. A
    camera off every preset stays paused until it is sent to one."""
    store.put_camera(cam("yard", modules={"zone": {}}), "api")
    cluster.add("w1")
    cluster.round()
    engine: RecordingEngine = cluster.workers["w1"].engine  # type: ignore[assignment]
    store.put_ptz_position("yard", PtzPosition("2", paused=True, resume_ms=now_ms() + 60_000))
    cluster.round()
    assert engine.running["yard"].modules == {}
    store.put_ptz_position("yard", PtzPosition("2", paused=True, resume_ms=now_ms() - 1))
    cluster.round()
    assert engine.running["yard"].modules == {"zone": {}}
    store.put_ptz_position("yard", PtzPosition("2", paused=True))
    cluster.round()
    assert engine.running["yard"].modules == {}


def test_a_worker_cut_off_from_nats_stops_its_cameras_before_the_lease_expires(
    tmp_path: Path, store: EventStore,
) -> None:
    ttl_s = 2.0
    server = NatsServer(tmp_path / "nats").start()
    cluster = Cluster(server.url, "fence", store, ttl_s=ttl_s)
    try:
        store.put_camera(cam("gate"), "api")
        worker = cluster.add("w1")
        cluster.round()
        assert worker.cameras == ["gate"]
        server.kill()
        cut_off = time.monotonic()
        worker.start()  # its own loop: rounds fail, the fence runs after each
        deadline = cut_off + ttl_s
        while worker.cameras and time.monotonic() < deadline + 1:
            time.sleep(0.05)
        assert worker.cameras == []
        # It let go before the lease could expire and pass to another worker.
        assert time.monotonic() - cut_off < ttl_s
    finally:
        worker.stop()
        cluster.close()
        server.stop()


def test_live_view_and_stats_reach_the_owner(cluster: Cluster, store: EventStore,
                                             nats_server: NatsServer, prefix: str) -> None:
    store.put_camera(cam("gate"), "api")
    store.put_camera(cam("dock", enabled=False), "api")
    worker = cluster.add("w1")
    cluster.round()
    cluster.round()  # the heartbeat of this round lists the camera taken in the first
    api_bus = NatsBus(nats_server.url, prefix=prefix)
    try:
        engine = ClusterEngine(store, api_bus, ClusterRegistry(api_bus, ttl_s=30))
        assert engine.live_jpeg("gate", overlay=False, max_width=320) == (
            b"\xff\xd8gate:False:320", 1234)
        assert engine.module_stats("gate") == {"line": {"in": 3}}
        status = engine.status("gate")
        assert status is not None and status.online
        assert engine.pipeline_metrics()["cluster_workers"].value == 1
        with pytest.raises(KeyError):
            engine.live_jpeg("nowhere")
        # Stored but not running anywhere: no answer, which the API reports as 503.
        with pytest.raises(CameraUnavailable):
            ask(api_bus, "dock", {"op": "live"})
        worker.stop()
        assert engine.live_jpeg("gate") is None
    finally:
        api_bus.close()


def test_a_frame_reply_round_trips(nats_server: NatsServer, prefix: str) -> None:
    engine = RecordingEngine()
    engine.add_camera(cam("gate"))
    bus = NatsBus(nats_server.url, prefix=prefix)
    try:
        responder = Responder(bus, engine)  # type: ignore[arg-type]
        responder.serve("gate")
        assert live_frame(ask(bus, "gate", {"op": "live"})) == (b"\xff\xd8gate:True:None", 1234)
        responder.stop_serving("gate")
        with pytest.raises(CameraUnavailable):
            ask(bus, "gate", {"op": "live"})
    finally:
        bus.close()
