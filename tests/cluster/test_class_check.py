"""An API node of a cluster refuses a camera whose detector classes the workers' model lacks,
with a 422 naming the field, instead of storing it for a worker to refuse and log. A real NATS
server carries the worker's heartbeat; the API is the one `vigil serve` composes."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import api_app, trust
from tests.cluster.test_worker import RecordingEngine
from vigil.bus import MemoryBus
from vigil.bus.nats import NatsBus
from vigil.cluster.registry import ClusterRegistry
from vigil.cluster.remote import ClusterEngine
from vigil.cluster.worker import Worker
from vigil.config import VigilConfig
from vigil.services.nats import NatsServer
from vigil.store import EventStore, LocalMediaStore


def test_a_camera_asking_for_classes_the_workers_lack_is_refused(
    nats_server: NatsServer, store: EventStore, tmp_path: Path
) -> None:
    worker_config = VigilConfig.model_validate({
        "detector": {"labels": ["person", "car", "truck"]},
        "cluster": {"worker_id": "gpu-1", "capacity": 8},
    })
    worker_bus = NatsBus(nats_server.url, prefix="classes")
    api_bus = NatsBus(nats_server.url, prefix="classes")
    try:
        worker = Worker(worker_config, engine=RecordingEngine(),  # type: ignore[arg-type]
                        store=store, bus=worker_bus,
                        registry=ClusterRegistry(worker_bus, ttl_s=30))
        worker.tick()  # its heartbeat tells which classes its model has
        engine = ClusterEngine(store, api_bus, ClusterRegistry(api_bus, ttl_s=30))
        app = trust(api_app(VigilConfig(), engine, store, LocalMediaStore(tmp_path / "media"),
                            MemoryBus()))
        client = TestClient(app)
        body = {"id": "square", "url": "rtsp://203.0.113.5:554/stream1",
                "detector": {"classes": ["person", "bicycle"]}}
        refused = client.post("/api/cameras", json=body)
        assert refused.status_code == 422
        assert "detector.classes" in refused.json()["detail"]
        assert "bicycle" in refused.json()["detail"] and "gpu-1" in refused.json()["detail"]
        assert store.get_camera("square") is None  # nothing stored for a worker to trip on

        body["detector"] = {"classes": ["person", "truck"]}
        assert client.post("/api/cameras", json=body).status_code == 201
        body["detector"] = {"classes": ["bicycle"]}
        assert client.put("/api/cameras/square", json=body).status_code == 422
        stored = store.get_camera("square")
        assert stored is not None and stored.config.detector is not None
        assert stored.config.detector.classes == ["person", "truck"]
    finally:
        worker_bus.close()
        api_bus.close()
