"""`vigil cluster status` against a real NATS server and a real store: the live workers and
their cameras, the cameras nobody runs, the alert evaluator and the JetStream backlog."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from nats.js import api
from typer.testing import CliRunner

from tests.services.test_nats import messages
from vigil.bus.nats import NatsBus
from vigil.cli.main import app
from vigil.cluster.registry import ClusterRegistry, WorkerInfo
from vigil.cluster.status import SINK_CONSUMER
from vigil.config import CameraConfig
from vigil.domain.frames import now_ms
from vigil.services.nats import NatsServer
from vigil.store import EventStore


def test_status_shows_workers_unassigned_cameras_alerts_and_backlog(
    tmp_path: Path, nats_server: NatsServer, store: EventStore
) -> None:
    bus = NatsBus(nats_server.url, prefix="status")
    try:
        registry = ClusterRegistry(bus, ttl_s=30)
        registry.heartbeat(WorkerInfo(
            id="worker-1", capacity=4, host="node-a", pid=4242, started_ms=now_ms() - 600_000,
            cameras=["gate"], statuses=[{"camera_id": "gate", "online": True}],
        ))
        for camera_id in ("gate", "dock"):
            store.put_camera(CameraConfig(id=camera_id, url="rtsp://127.0.0.1:1/none"), "api")
        registry.acquire_role("alerts", "api-node-1")
        # The sinks' shared consumer, with three envelopes no sink has taken yet.
        stream = bus.streams()[0][0]
        bus.call(bus.js.add_consumer(stream, api.ConsumerConfig(
            durable_name=SINK_CONSUMER, ack_policy=api.AckPolicy.EXPLICIT)), timeout=10)
        bus.publish_many(messages(3, cameras=3)[::2])

        config = tmp_path / "cluster.yaml"
        config.write_text(yaml.safe_dump({
            "bus": {"url": nats_server.url, "prefix": "status"},
            "store": {"url": store.engine.url.render_as_string(hide_password=False),
                      "media_dir": str(tmp_path / "media")},
        }))
        result = CliRunner().invoke(app, ["cluster", "status", "--config", str(config), "--json"])
        assert result.exit_code == 0, result.output
        state = json.loads(result.output)
        [worker] = state["workers"]
        assert (worker["id"], worker["cameras"], worker["online"]) == ("worker-1", ["gate"], 1)
        assert 590 <= worker["up_s"] <= 700
        assert state["unassigned"] == ["dock"]
        assert state["alerts_evaluator"] == "api-node-1"
        assert state["sink_backlog"][stream] == {"waiting": 3, "unacknowledged": 0}

        table = CliRunner().invoke(app, ["cluster", "status", "--config", str(config)])
        assert table.exit_code == 0, table.output
        assert "worker-1" in table.output and "dock" in table.output
        assert "api-node-1" in table.output
    finally:
        bus.close()


def test_status_of_a_single_node_config_says_what_is_wrong(tmp_path: Path) -> None:
    config = tmp_path / "single.yaml"
    config.write_text(yaml.safe_dump({"store": {"url": f"sqlite:///{tmp_path / 'v.db'}"}}))
    result = CliRunner().invoke(app, ["cluster", "status", "--config", str(config)])
    assert result.exit_code == 2
    assert "bus.url is not set" in result.output
