"""The local cluster (`vigil cluster up`'s launcher) on loopback: NATS JetStream, PostgreSQL,
SeaweedFS, an API node and three workers, each its own process. Cameras are spread over the
workers, events reach PostgreSQL with snapshots in S3, live view works from the API node,
and when a worker is killed with SIGKILL its cameras resume on the others within 10 s."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.server import create_admin, free_port
from vigil.bus.nats import NatsBus
from vigil.cluster.local import LocalCluster
from vigil.cluster.registry import ClusterRegistry
from vigil.config import ROOT, load_config
from vigil.domain.frames import now_ms
from vigil.store.media import open_media

FAILOVER_LIMIT_S = 10.0
STARTUP_S = 240  # three workers loading models on two busy cores


def camera(camera_id: str, offset_s: int) -> dict[str, Any]:
    return {
        "id": camera_id, "url": str(ROOT / "media" / "vtest.mp4"), "analysis_fps": 3,
        "start_offset_s": offset_s,
        "lines": [{"name": "lamp-post", "start": [380, 150], "end": [380, 420]}],
        "zones": [{"name": "plaza", "polygon": [[0, 0], [768, 0], [768, 576], [0, 576]]}],
        "modules": {"zone": {"classes": ["person"], "min_duration_s": 0.5},
                    "line": {"classes": ["person"]}},
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    # Not under pytest's tmp_path: PostgreSQL may run as another user (see services/fixtures).
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-cluster-"))
    directory.chmod(0o755)
    settings = {"cameras": [camera(f"cam-{i}", 8 * i) for i in range(4)],
                "batching": {"max_batch": 2, "max_wait_ms": 20}}
    cluster = LocalCluster(directory, workers=3, nats_nodes=1, api_port=free_port(),
                           settings=settings)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def registry(cluster: LocalCluster) -> Iterator[ClusterRegistry]:
    config = load_config(cluster.config_file)  # type: ignore[arg-type]
    assert config.bus.url is not None
    bus = NatsBus(config.bus.url, prefix=config.bus.prefix)
    yield ClusterRegistry(bus, ttl_s=config.cluster.ttl_s)
    bus.close()


@pytest.fixture(scope="module")
def database(cluster: LocalCluster) -> Iterator[sa.Engine]:
    engine = sa.create_engine(load_config(cluster.config_file).store.url)  # type: ignore[arg-type]
    yield engine
    engine.dispose()


def wait_for(condition: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(step)
    return None


def owners(registry: ClusterRegistry) -> dict[str, str]:
    """camera → worker, for cameras leased by a live worker that reports it online."""
    placed: dict[str, str] = {}
    for worker in registry.workers().values():
        for status in worker.statuses:
            if status["online"] and registry.owner(status["camera_id"]) == worker.id:
                placed[status["camera_id"]] = worker.id
    return placed


def events_since(database: sa.Engine, camera_ids: set[str], since_ms: int) -> int:
    with database.connect() as connection:
        return int(connection.execute(
            sa.text("SELECT count(*) FROM events "
                    "WHERE start_ms > :since AND camera_id = ANY(:ids)"),
            {"since": since_ms, "ids": sorted(camera_ids)},
        ).scalar_one())


def test_cameras_are_spread_and_their_events_stored_with_snapshots_in_s3(
    cluster: LocalCluster, registry: ClusterRegistry, database: sa.Engine,
) -> None:
    def spread() -> dict[str, str] | None:
        # The first worker up takes every camera; the others take their share as they join.
        placed = owners(registry)
        return placed if len(placed) == 4 and len(set(placed.values())) >= 2 else None

    placed = wait_for(spread, STARTUP_S, 0.5)
    assert placed, (
        f"the cameras do not all run, spread over workers: {owners(registry)}; "
        f"logs in {cluster.directory / 'logs'}"
    )
    assert wait_for(lambda: events_since(database, set(placed), 0) >= 8, 120, 0.5)
    with database.connect() as connection:
        key = connection.execute(sa.text(
            "SELECT snapshot FROM events WHERE snapshot IS NOT NULL LIMIT 1")).scalar_one()
    media = open_media(load_config(cluster.config_file).store)  # type: ignore[arg-type]
    data = media.get(key)
    assert data is not None and data[:2] == b"\xff\xd8"  # a JPEG, in S3
    assert not (cluster.directory / "data").exists() or not any(
        (cluster.directory / "data").rglob("*.jpg")
    )


def test_live_view_from_the_api_node_reaches_the_owning_worker(cluster: LocalCluster) -> None:
    token = create_admin(yaml.safe_load(cluster.config_file.read_text()))  # type: ignore[union-attr]

    def live() -> bytes | None:
        request = urllib.request.Request(
            f"{cluster.url}/api/cameras/cam-1/live.jpg",
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.headers["Content-Type"] == "image/jpeg"
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            assert error.code == 503, error.read()  # owner still starting: retry
            return None

    frame = wait_for(live, 60, 0.5)
    assert frame is not None and frame[:2] == b"\xff\xd8"
    request = urllib.request.Request(f"{cluster.url}/api/cameras",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        cameras = {c["id"]: c for c in json.load(response)}
    assert set(cameras) == {f"cam-{i}" for i in range(4)}
    assert all(c["status"] and c["status"]["online"] for c in cameras.values()), cameras


def test_a_killed_worker_s_cameras_resume_elsewhere_within_10_s(
    cluster: LocalCluster, registry: ClusterRegistry, database: sa.Engine,
) -> None:
    placed = wait_for(lambda: len(owners(registry)) == 4 and owners(registry), STARTUP_S, 0.5)
    assert placed
    victim = max(set(placed.values()), key=lambda w: list(placed.values()).count(w))
    moved = {camera for camera, worker in placed.items() if worker == victim}
    node = next(node for node in cluster.worker_nodes if node.name == victim)
    killed_ms = now_ms()
    started = time.monotonic()
    node.kill()

    def resumed() -> bool:
        now = owners(registry)
        return all(now.get(camera) not in (None, victim) for camera in moved)

    assert wait_for(resumed, 60, 0.1), f"cameras {moved} did not resume; see the logs"
    elapsed = time.monotonic() - started
    print(f"failover of {len(moved)} camera(s) from {victim}: {elapsed:.1f} s")
    assert elapsed < FAILOVER_LIMIT_S, f"{moved} resumed after {elapsed:.1f} s"
    # Events continue: the new owners' analysis reaches the store.
    assert wait_for(lambda: events_since(database, moved, killed_ms) > 0, 90, 0.5)
