"""The API node under test: `create_app` over a seeded store, no cameras running.
`python -m vigil.bench.api.node PORT STORE_URL MEDIA_DIR`.

Its socket is bound with SO_REUSEPORT, so several of these processes on one port make one
node of several API processes: the kernel spreads connections over them, and they share
nothing but the store (audit chain, tokens, events), like API nodes of a cluster."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import uvicorn

from vigil.api import create_app
from vigil.api.serving import listen, settle_for_serving
from vigil.bus import MemoryBus
from vigil.config import CameraConfig, VigilConfig
from vigil.domain.frames import CameraStatus
from vigil.pipeline.control import PipelineMetric
from vigil.privacy.masks import AttributePolicy
from vigil.recording.service import RecordingService
from vigil.runtime import api_services
from vigil.store import EventStore, LocalMediaStore


class NoCameras:
    """EngineControl of a node whose cameras run elsewhere (workers): the read routes under
    test never ask it for anything."""

    def cameras(self) -> list[CameraConfig]:
        return []

    def status(self, camera_id: str) -> CameraStatus | None:
        return None

    def statuses(self) -> list[CameraStatus]:
        return []

    @property
    def attributes(self) -> AttributePolicy | None:
        return None

    @property
    def recording(self) -> RecordingService | None:
        return None

    def add_camera(self, camera: CameraConfig) -> None:
        raise KeyError(camera.id)

    def replace_camera(self, camera: CameraConfig) -> None:
        raise KeyError(camera.id)

    def analyse_as(
        self,
        camera: CameraConfig,
        preset: str | None,
        paused: bool,
        resume_after_s: float | None = None,
    ) -> None:
        raise KeyError(camera.id)

    def remove_camera(self, camera_id: str) -> None:
        raise KeyError(camera_id)

    def live_jpeg(
        self, camera_id: str, *, overlay: bool = True, max_width: int | None = None
    ) -> tuple[bytes, int] | None:
        raise KeyError(camera_id)

    def pipeline_metrics(self) -> dict[str, PipelineMetric]:
        return {}

    def module_stats(self, camera_id: str) -> dict[str, Any]:
        raise KeyError(camera_id)


def node_config(url: str, media_dir: Path) -> VigilConfig:
    """The node's settings. The coordinator builds the search index with the same ones, so
    that the index lies where the node looks for it (beside a SQLite store; for a database
    server's, in the media directory's parent) and its captions are in the node's time zone."""
    config = VigilConfig()
    config.store.url = url
    config.store.media_dir = media_dir
    # 50 clients of one token would hit the per-user search limit (120/min) at once; the
    # benchmark measures the queries, not the limiter.
    config.security.search_per_minute = 1_000_000
    return config


def main() -> None:
    port, url, media_dir = sys.argv[1:4]
    config = node_config(url, Path(media_dir))
    store = EventStore(url)
    store.migrate()
    engine, media = NoCameras(), LocalMediaStore(Path(media_dir))
    services = api_services(config, engine, store, media)
    app = create_app(config, engine, store, media, MemoryBus(), services)
    listener = listen("127.0.0.1", int(port), backlog=1024, shared=True)
    settle_for_serving()  # as `vigil serve` does
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", backlog=1024))
    server.run(sockets=[listener])


if __name__ == "__main__":
    main()
