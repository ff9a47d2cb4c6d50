"""`vigil worker`: analyses the cameras the cluster assigns to it.

Every `heartbeat_s` a worker: says it is alive (with its cameras' status and its metrics),
reads the live workers and the enabled cameras, computes the placement (rendezvous hashing,
the same on every worker), gives up cameras that are no longer its own, renews the leases of
those it keeps and takes the leases of those newly assigned to it. Events go to the bus
(JetStream), snapshots to the shared media store, and the store sink of an API node writes
them. A worker that cannot renew a lease for most of the lease's lifetime stops that camera
on its own: by the time the lease expires and another worker takes it, this one has let go.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass

from vigil.auth.store import AuthStore
from vigil.auth.wiring import load_tenant_choices
from vigil.bus.nats import NatsBus
from vigil.cluster.analysed import analysed_cameras
from vigil.cluster.assign import assign
from vigil.cluster.registry import FENCE_SHARE, ClusterRegistry, WorkerInfo, process_name
from vigil.cluster.rpc import Responder
from vigil.config import CameraConfig, VigilConfig
from vigil.domain.coco import COCO_CLASSES
from vigil.domain.frames import now_ms
from vigil.pipeline.local_engine import LocalEngine
from vigil.store.store import EventStore

log = logging.getLogger(__name__)
@dataclass(slots=True)
class _Lease:
    revision: int
    renewed: float  # time.monotonic() of the last successful renewal
    config: CameraConfig


class Worker:
    def __init__(
        self, config: VigilConfig, *, engine: LocalEngine, store: EventStore, bus: NatsBus,
        registry: ClusterRegistry,
    ) -> None:
        self.config = config
        self.id = config.cluster.worker_id or process_name()
        self.engine = engine
        self.store = store
        self.bus = bus
        self.registry = registry
        self.responder = Responder(bus, engine)
        self.auth = AuthStore(store.engine)
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()  # guards _leases; never held across a network call
        self._started_ms = now_ms()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._fence_thread: threading.Thread | None = None

    @property
    def cameras(self) -> list[str]:
        """Cameras this worker holds the lease of (and analyses)."""
        with self._lock:
            return sorted(self._leases)

    def start(self) -> None:
        self.engine.start([])
        self._thread = threading.Thread(target=self._run, name="worker", daemon=True)
        self._thread.start()
        self._fence_thread = threading.Thread(target=self._fence_forever, name="fence",
                                              daemon=True)
        self._fence_thread.start()

    def run_forever(self) -> None:
        """Until `stop()` is called (SIGTERM / Ctrl-C in `vigil worker`)."""
        self.start()
        self._stopping.wait()

    def stop(self) -> None:
        """Stop every camera (ending its open events), release the leases, leave."""
        self._stopping.set()
        for thread in (self._thread, self._fence_thread):
            if thread is not None:
                thread.join(30)
        for camera_id in self.cameras:
            self._let_go(camera_id, release=True)
        self.engine.stop()
        try:
            self.registry.leave(self.id)
        except Exception as error:  # the bus is gone: the heartbeat expires by itself
            log.warning("could not leave the cluster: %s", error)

    def _run(self) -> None:
        period = self.config.cluster.heartbeat_s
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except Exception as error:
                # NATS or the database unreachable: keep analysing what is leased until the
                # fence says otherwise, and try again next period.
                log.warning("worker %s: cluster round failed: %s", self.id, error or
                            type(error).__name__)
            self._stopping.wait(max(0.0, period - (time.monotonic() - started)))

    def _fence_forever(self) -> None:
        # Its own thread: a round blocked on an unreachable NATS must not delay the fence.
        while not self._stopping.wait(self.config.cluster.ttl_s / 20):
            self.fence()

    def tick(self) -> None:
        """One round of heartbeat, placement and leases."""
        info = self._info()
        self.registry.heartbeat(info)
        workers = self.registry.workers()
        workers.setdefault(self.id, info)  # our own heartbeat may not be listed yet
        # At the PTZ position the API recorded: a moved camera restarts with its preset's
        # geometry, or without modules while it moves, as any changed settings do.
        cameras = {camera.id: camera for camera in analysed_cameras(self.store)}
        load_tenant_choices(self.auth, self.engine.attributes)
        placement = assign(cameras, {w.id: w.capacity for w in workers.values()})
        mine = {camera for camera, worker in placement.items() if worker == self.id}
        for camera_id in [c for c in self.cameras if c not in mine]:
            self._let_go(camera_id, release=True)
        for camera_id in self.cameras:
            self._renew(camera_id, cameras[camera_id])
        for camera_id in sorted(mine - set(self.cameras)):
            self._take(camera_id, cameras[camera_id])

    def _renew(self, camera_id: str, config: CameraConfig) -> None:
        with self._lock:
            lease = self._leases.get(camera_id)
        if lease is None:  # fenced meanwhile
            return
        revision = self.registry.renew(camera_id, self.id, lease.revision)
        if revision is None:
            log.warning("worker %s lost the lease of camera %s", self.id, camera_id)
            self._let_go(camera_id, release=False)
            return
        with self._lock:
            if self._leases.get(camera_id) is not lease:
                return  # fenced while renewing: the lease expires unrenewed
            lease.revision, lease.renewed = revision, time.monotonic()
            changed = config != lease.config
            lease.config = config
        if changed:
            with contextlib.suppress(KeyError):  # fenced meanwhile
                self.engine.replace_camera(config)

    def _take(self, camera_id: str, config: CameraConfig) -> None:
        revision = self.registry.acquire(camera_id, self.id)
        if revision is None:
            return  # its previous owner still holds it; it lets go or expires
        try:
            self.engine.add_camera(config)
        except KeyError:
            # Still being stopped after a fence: give the lease back and take it next round.
            self.registry.release(camera_id, revision)
            return
        with self._lock:
            self._leases[camera_id] = _Lease(revision, time.monotonic(), config)
        self.responder.serve(camera_id)
        log.info("worker %s analyses camera %s", self.id, camera_id)

    def _let_go(self, camera_id: str, *, release: bool) -> None:
        with self._lock:
            lease = self._leases.pop(camera_id, None)
        if lease is not None:
            self._stop_camera(camera_id, lease, release=release)

    def _stop_camera(self, camera_id: str, lease: _Lease, *, release: bool) -> None:
        self.responder.stop_serving(camera_id)
        with contextlib.suppress(KeyError):  # its reader may have been removed already
            self.engine.remove_camera(camera_id)
        if release:
            try:
                self.registry.release(camera_id, lease.revision)
            except Exception as error:  # it expires by itself
                log.warning("could not release camera %s: %s", camera_id, error)
        log.info("worker %s stopped camera %s", self.id, camera_id)

    def fence(self) -> None:
        """Stop the cameras whose lease went unrenewed for most of its lifetime."""
        limit = FENCE_SHARE * self.config.cluster.ttl_s
        now = time.monotonic()
        with self._lock:
            stale = {c: lease for c, lease in self._leases.items() if now - lease.renewed > limit}
            for camera_id in stale:
                del self._leases[camera_id]
        for camera_id, lease in stale.items():
            log.warning(
                "worker %s could not renew the lease of camera %s in time; stopping it before "
                "another worker takes it", self.id, camera_id,
            )
            # One thread each: stopping a camera reads no more frames at once, but publishing
            # its closing events waits for NATS, and that must not delay the next camera.
            threading.Thread(target=self._stop_camera, args=(camera_id, lease),
                             kwargs={"release": False}, daemon=True).start()

    def _info(self) -> WorkerInfo:
        return WorkerInfo(
            id=self.id,
            capacity=self.config.cluster.capacity,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_ms=self._started_ms,
            cameras=self.cameras,
            statuses=[asdict(status) for status in self.engine.statuses()],
            metrics={
                name: [metric.kind, metric.help, metric.value]
                for name, metric in self.engine.pipeline_metrics().items()
            },
            labels=list(self.config.detector.labels or COCO_CLASSES),
        )
