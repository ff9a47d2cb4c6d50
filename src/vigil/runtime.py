"""Wiring: store, bus, models and engine built from one config, and torn down in order.

Three shapes, one config: a single node (`build_runtime` without `bus.url`: engine, sink and
API in one process over an in-process bus), an API node of a cluster (`build_runtime` with
`bus.url`: sink and API over NATS, cameras run by workers), and a worker (`build_worker`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from vigil.alerts.service import AlertService, public_url
from vigil.auth.secrets import SecretBox
from vigil.auth.wiring import Identity, build_identity
from vigil.bus import Bus, MemoryBus
from vigil.bus.credentials import connect_options
from vigil.bus.nats import NatsBus
from vigil.cluster.registry import ClusterRegistry, process_name
from vigil.cluster.remote import ClusterEngine
from vigil.cluster.role import RoleLease
from vigil.cluster.worker import Worker
from vigil.config import DetectorConfig, VigilConfig, default_key_file
from vigil.pipeline.control import EngineControl
from vigil.pipeline.local_engine import LocalEngine
from vigil.privacy.redact import FaceRedactor
from vigil.recording.keywrap import KeyWrap
from vigil.recording.service import RecordingService
from vigil.search.indexer import SearchIndexer, start_indexer
from vigil.search.service import SearchService
from vigil.store import EventSink, EventStore
from vigil.store.media import MediaStore, open_media
from vigil.vision.detector import Detector, OnnxDetector
from vigil.vision.faces import FaceDetector
from vigil.vision.torch_detector import TorchDetector

log = logging.getLogger(__name__)
# Events once committed by a store sink travel on their own streams, so that every API node
# (live feed, alerts, search) follows what any node's sink wrote.
COMMITTED_SUFFIX = "-committed"


@dataclass
class Runtime:
    config: VigilConfig
    store: EventStore
    media: MediaStore
    bus: Bus
    committed: Bus  # events once stored: what live views follow
    engine: LocalEngine | ClusterEngine
    sink: EventSink
    alerts: AlertService | None = None  # None for offline analysis: no notifications
    search: SearchIndexer | None = None  # keeps the search index up to date
    alerts_role: RoleLease | None = None  # an API node of a cluster: alerts on one node at once

    def stop(self) -> None:
        """Stop cameras, end open events, flush them to the store, close the store."""
        self.engine.stop()
        self.sink.stop()
        if self.alerts is not None:
            # After the sink, so the alerts of its last events are evaluated and sent.
            self.alerts.stop()
        if self.alerts_role is not None:
            # After evaluating its last events: another node takes over at once.
            self.alerts_role.stop()
        if self.search is not None:
            # After the sink too: its last committed events become searchable.
            self.search.stop()
        self.bus.close()
        self.committed.close()
        self.store.close()


def open_store(config: VigilConfig, *, offline: bool = False) -> EventStore:
    """The event store, migrated; camera credentials are encrypted at rest with a key file made
    on first run (0600) unless offline."""
    config.store.media_dir.mkdir(parents=True, exist_ok=True)
    _ensure_sqlite_dir(config.store.url)
    key_file = config.security.key_file or default_key_file(config.store.media_dir)
    store = EventStore(
        config.store.url, secrets=None if offline else SecretBox.from_key_file(key_file)
    )
    store.migrate()
    return store


def open_nats(config: VigilConfig, suffix: str = "") -> NatsBus:
    """The cluster's bus (`bus.url`), on streams named after `bus.prefix` + `suffix`."""
    bus = config.bus
    if bus.url is None:
        raise ValueError("bus.url: a cluster node needs the NATS server(s) of its cluster")
    return NatsBus(
        bus.url, prefix=bus.prefix + suffix, replicas=bus.replicas, options=connect_options(bus)
    )


def build_detector(config: DetectorConfig) -> Detector:
    """onnxruntime's detector, or with `provider: torch` the PyTorch one, which takes the
    frames NVDEC decoded as they lie in GPU memory (vision/torch_detector.py)."""
    if config.provider == "torch":
        return TorchDetector(config)
    return OnnxDetector(config)


def build_engine(
    config: VigilConfig,
    bus: Bus,
    media: MediaStore,
    *,
    offline: bool,
    store: EventStore | None = None,
) -> LocalEngine:
    detector = build_detector(config.detector)
    faces = FaceDetector(config.privacy.face_model, config.privacy.face_threshold)
    # Segments go to the media store (S3 in a cluster), their index and keys to the database.
    recording = (
        None
        if offline or store is None or store.secrets is None
        else RecordingService(
            store.engine, media, config.recording, KeyWrap.from_secrets(store.secrets)
        )
    )
    return LocalEngine(
        config,
        detector=detector,
        redactor=FaceRedactor(faces),
        bus=bus,
        media=media,
        offline=offline,
        recording=recording,
    )


def build_runtime(config: VigilConfig, *, offline: bool = False) -> Runtime:
    """Everything needed to analyse the configured cameras (or, with `bus.url`, to serve a
    cluster's API); cameras start with `start_runtime`."""
    store = open_store(config, offline=offline)
    media = open_media(config.store)
    clustered = config.bus.url is not None and not offline
    bus: Bus
    committed: Bus
    engine: LocalEngine | ClusterEngine
    role = None
    if clustered:
        nats_bus = open_nats(config)
        registry = ClusterRegistry(
            nats_bus, ttl_s=config.cluster.ttl_s, replicas=config.bus.replicas
        )
        bus, committed = nats_bus, open_nats(config, COMMITTED_SUFFIX)
        engine = ClusterEngine(store, nats_bus, registry)
        role = RoleLease(
            registry,
            "alerts",
            process_name(),
            heartbeat_s=config.cluster.heartbeat_s,
            ttl_s=config.cluster.ttl_s,
        )
        role.start()
    else:
        bus, committed = MemoryBus(), MemoryBus()
        engine = build_engine(config, bus, media, offline=offline, store=store)
    sink = EventSink(store, bus, config.store, committed=committed)
    sink.start()
    alerts = None
    if not offline:
        alerts = AlertService(config.alerts, store, public_url=public_url(config), media=media)
        alerts.start(committed, role=role)
    search = start_indexer(config, store, committed)
    return Runtime(
        config, store, media, bus, committed, engine, sink, alerts, search=search, alerts_role=role
    )


@dataclass(frozen=True, slots=True)
class ApiServices:
    """What the API manages besides the engine and the store, built once here so that the
    app factory (`vigil.api.create_app`) only composes routes."""

    alerts: AlertService
    search: SearchService
    identity: Identity


def api_services(
    config: VigilConfig,
    engine: EngineControl,
    store: EventStore,
    media: MediaStore,
    *,
    alerts: AlertService | None = None,
) -> ApiServices:
    """The API's services over a migrated `store`. `alerts` is the engine owner's running
    service; without one (a test, a benchmark), rules and stored alerts can still be managed
    and tested, and nothing is evaluated."""
    return ApiServices(
        alerts=alerts
        or AlertService(config.alerts, store, public_url=public_url(config), media=media),
        # One search service per store: the runtime's indexer feeds the same in-memory index.
        search=SearchService.for_store(store, config=config),
        identity=build_identity(config, engine, store, media, attributes=engine.attributes),
    )


def build_worker(config: VigilConfig) -> Worker:
    """A cluster worker: its engine publishes to NATS; API nodes store and serve."""
    bus = open_nats(config)
    store = open_store(config)
    media = open_media(config.store)
    registry = ClusterRegistry(bus, ttl_s=config.cluster.ttl_s, replicas=config.bus.replicas)
    engine = build_engine(config, bus, media, offline=False, store=store)
    return Worker(config, engine=engine, store=store, bus=bus, registry=registry)


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
