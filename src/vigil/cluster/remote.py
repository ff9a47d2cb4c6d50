"""The pipeline as an API node of a cluster sees it: cameras live in the store, workers
analyse them, and their heartbeats carry each camera's status.

Adding, changing or removing a camera is a store write (the API route does it); every worker
reads the store each heartbeat and the placement follows, so the control methods here have
nothing to start or stop. Where a PTZ camera points (its preset's geometry, modules paused
while it moves) is a store row too, written by `analyse_as` (vigil.cluster.analysed).
Live frames and module counters come from the owning worker by request/reply.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from vigil.bus.nats import NatsBus
from vigil.cluster.analysed import analysed_cameras
from vigil.cluster.registry import ClusterRegistry, WorkerInfo
from vigil.cluster.rpc import CameraUnavailable, ask, json_reply, live_frame
from vigil.config import CameraConfig
from vigil.domain.frames import CameraStatus, now_ms
from vigil.pipeline.control import PipelineMetric
from vigil.privacy.masks import AttributePolicy
from vigil.recording.service import RecordingService
from vigil.store.ptz_rows import PtzPosition
from vigil.store.store import EventStore
from vigil.vision.detector import ModelError

log = logging.getLogger(__name__)
# Heartbeats arrive once a second; a status page polling faster reads the same snapshot.
WORKERS_CACHE_S = 0.5


class ClusterEngine:
    """Implements `EngineControl` for an API node of a cluster."""

    def __init__(self, store: EventStore, bus: NatsBus, registry: ClusterRegistry) -> None:
        self.store = store
        self.bus = bus
        self.registry = registry
        self._lock = threading.Lock()
        self._workers: dict[str, WorkerInfo] = {}
        self._read_at = float("-inf")
        self._enabled: set[str] = set()
        self._enabled_at = float("-inf")

    @property
    def attributes(self) -> AttributePolicy | None:
        return None  # each worker applies its tenants' choices (cluster.worker)

    @property
    def recording(self) -> RecordingService | None:
        return None  # the workers record the cameras they run

    def start(self, cameras: Iterable[CameraConfig]) -> None:
        """Nothing to start here: the workers run the cameras recorded in the store."""

    def stop(self) -> None:
        """Nothing to stop: the workers keep running."""

    def workers(self) -> dict[str, WorkerInfo]:
        """Live workers; while NATS cannot be reached, the last ones seen and a warning in the
        log, so that the API (and /healthz) keeps answering from the store meanwhile."""
        with self._lock:
            if time.monotonic() - self._read_at > WORKERS_CACHE_S:
                try:
                    self._workers = self.registry.workers()
                except Exception as error:
                    log.warning("cannot read the cluster's workers: %s", error)
                self._read_at = time.monotonic()
            return self._workers

    # EngineControl ---------------------------------------------------------------------------

    def cameras(self) -> list[CameraConfig]:
        return analysed_cameras(self.store)

    def status(self, camera_id: str) -> CameraStatus | None:
        return next((s for s in self.statuses() if s.camera_id == camera_id), None)

    def statuses(self) -> list[CameraStatus]:
        return [
            CameraStatus(**status)
            for worker in self.workers().values()
            for status in worker.statuses
        ]

    def add_camera(self, camera: CameraConfig) -> None:
        """The route's store write that follows is what starts it: workers read the store.
        Refused here (ModelError, which the API answers with 422) if a worker could not run
        it, KeyError if the store already holds it enabled."""
        self._analysed(camera.id, expected=False)
        self._check_classes(camera)

    def replace_camera(self, camera: CameraConfig) -> None:
        """Workers see the changed settings in the store and restart the camera."""
        self._analysed(camera.id, expected=True)
        self._check_classes(camera)

    def analyse_as(
        self, camera: CameraConfig, preset: str | None, paused: bool,
        resume_after_s: float | None = None,
    ) -> None:
        """Recorded in the store: the camera's worker reads it each heartbeat and restarts the
        camera so, and whichever worker takes the camera over after a failover starts it so."""
        self._analysed(camera.id, expected=True)
        resume_ms = None
        if paused and resume_after_s is not None:
            resume_ms = now_ms() + round(resume_after_s * 1000)
        self.store.put_ptz_position(camera.id, PtzPosition(preset, paused, resume_ms))

    def _analysed(self, camera_id: str, *, expected: bool) -> None:
        """KeyError when the camera is analysed (enabled in the store) and `expected` says
        it is not, or the other way round. Read now, not from the live-view cache: the
        caller is about to write."""
        if any(camera.id == camera_id for camera in self.cameras()) != expected:
            raise KeyError(camera_id)

    def _check_classes(self, camera: CameraConfig) -> None:
        """Any live worker may be assigned the camera (and it moves when workers come and
        go), so every one's detector must know the classes it asks for; otherwise the worker
        would refuse it and the user would only find out from that worker's log."""
        wanted = set(camera.detector.classes or ()) if camera.detector else set()
        if not wanted:
            return
        for worker in sorted(self.workers().values(), key=lambda worker: worker.id):
            missing = wanted - set(worker.labels)
            if worker.labels and missing:
                raise ModelError(
                    f"cameras[].detector.classes: the model of worker {worker.id} has no class "
                    f"{', '.join(sorted(missing))}"
                )

    def remove_camera(self, camera_id: str) -> None:
        """Workers see the camera gone from the store (or disabled) and stop it."""
        self._analysed(camera_id, expected=True)

    def _known(self, camera_id: str) -> None:
        """KeyError unless `camera_id` is an enabled camera. Live MJPEG asks at every frame,
        so the answer is read from the store at most every WORKERS_CACHE_S."""
        with self._lock:
            if time.monotonic() - self._enabled_at > WORKERS_CACHE_S:
                self._enabled = {camera.id for camera in self.cameras()}
                self._enabled_at = time.monotonic()
            enabled = self._enabled
        if camera_id not in enabled:
            raise KeyError(camera_id)

    def live_jpeg(
        self, camera_id: str, *, overlay: bool = True, max_width: int | None = None
    ) -> tuple[bytes, int] | None:
        self._known(camera_id)
        try:
            reply = ask(
                self.bus, camera_id, {"op": "live", "overlay": overlay, "max_width": max_width}
            )
        except CameraUnavailable:
            return None  # starting or moving: the API answers 503 with Retry-After
        return live_frame(reply)

    def module_stats(self, camera_id: str) -> dict[str, Any]:
        self._known(camera_id)
        try:
            stats: dict[str, Any] = json_reply(ask(self.bus, camera_id, {"op": "stats"}))
        except CameraUnavailable:
            return {}
        return stats

    def pipeline_metrics(self) -> dict[str, PipelineMetric]:
        """Every worker's figures summed, and how many workers are alive."""
        workers = self.workers()
        totals: dict[str, PipelineMetric] = {
            "cluster_workers": PipelineMetric("gauge", "Live workers", float(len(workers))),
        }
        for worker in workers.values():
            for name, (kind, help_, value) in worker.metrics.items():
                if name.endswith("last_batch_seconds"):
                    continue  # a latest value does not add up over workers
                before = totals.get(name)
                total = float(value) + (before.value if before else 0.0)
                totals[name] = PipelineMetric(kind, help_, total)
        return totals
