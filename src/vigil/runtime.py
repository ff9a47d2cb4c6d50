"""Wiring: store, bus, models and engine built from one config, and torn down in order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from vigil.alerts.service import AlertService, public_url
from vigil.auth.secrets import SecretBox, default_key_file
from vigil.bus import MemoryBus
from vigil.config import VigilConfig
from vigil.pipeline.engine import Engine
from vigil.privacy.redact import FaceRedactor
from vigil.search.indexer import SearchIndexer, start_indexer
from vigil.store import EventSink, EventStore, LocalMediaStore
from vigil.store.media import MediaStore
from vigil.vision.detector import OnnxDetector
from vigil.vision.faces import FaceDetector

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: VigilConfig
    store: EventStore
    media: MediaStore
    bus: MemoryBus
    committed: MemoryBus  # events once stored: what live views follow
    engine: Engine
    sink: EventSink
    alerts: AlertService | None = None  # None for offline analysis: no notifications
    search: SearchIndexer | None = None  # keeps the search index up to date

    def stop(self) -> None:
        """Stop cameras, end open events, flush them to the store, close the store."""
        self.engine.stop()
        self.sink.stop()
        if self.alerts is not None:
            # After the sink, so the alerts of its last events are evaluated and sent.
            self.alerts.stop()
        if self.search is not None:
            # After the sink too: its last committed events become searchable.
            self.search.stop()
        self.bus.close()
        self.committed.close()
        self.store.close()


def build_runtime(config: VigilConfig, *, offline: bool = False) -> Runtime:
    """Everything needed to analyse the configured cameras; cameras start with `start_runtime`."""
    config.store.media_dir.mkdir(parents=True, exist_ok=True)
    _ensure_sqlite_dir(config.store.url)
    # Camera credentials are encrypted at rest with a key file made on first run (0600).
    key_file = config.security.key_file or default_key_file(config.store.media_dir)
    store = EventStore(
        config.store.url, secrets=None if offline else SecretBox.from_key_file(key_file)
    )
    store.migrate()
    media = LocalMediaStore(config.store.media_dir)
    bus, committed = MemoryBus(), MemoryBus()
    sink = EventSink(store, bus, config.store, committed=committed)
    sink.start()
    detector = OnnxDetector(config.detector)
    faces = FaceDetector(config.privacy.face_model, config.privacy.face_threshold)
    engine = Engine(
        config,
        detector=detector,
        redactor=FaceRedactor(faces),
        bus=bus,
        media=media,
        offline=offline,
    )
    alerts = None
    if not offline:
        alerts = AlertService(config.alerts, store, public_url=public_url(config), media=media)
        alerts.start(committed)
    search = start_indexer(config, store, committed)
    return Runtime(config, store, media, bus, committed, engine, sink, alerts, search=search)


def start_runtime(runtime: Runtime) -> None:
    """Record config-declared cameras in the store, then start the engine with every camera:
    those of the config file and those added earlier through the API."""
    config = runtime.config
    stored = runtime.store.sync_config_cameras(config.cameras)
    declared = {camera.id for camera in config.cameras}
    added_by_api = [row.config for row in stored if row.config.id not in declared]
    runtime.engine.start([*config.cameras, *added_by_api])


def _ensure_sqlite_dir(url: str) -> None:
    prefix = "sqlite:///"
    if url.startswith(prefix):
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)
