"""The single-node pipeline engine: camera readers → one batcher → one detector → per-camera
analysis, all in this process. `cluster.remote.ClusterEngine` is the other implementation of
`pipeline.control.EngineControl` (cameras on `vigil worker` nodes); the SQLAlchemy engine of
`store.db` is unrelated and keeps its library's name."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import supervision as sv

from vigil.bus import Bus
from vigil.config import CameraConfig, CameraDetectorConfig, PrivacyMaskConfig, VigilConfig
from vigil.domain.frames import CameraStatus, DeviceImage, Frame, now_ms
from vigil.domain.series_points import SeriesMessage
from vigil.pipeline.camera import CameraPipeline, Output
from vigil.pipeline.control import PipelineMetric
from vigil.pipeline.deadline import Batcher, DeadlineBatcher, make_batcher
from vigil.pipeline.output import EventOutput
from vigil.pipeline.ptz_geometry import analysed_at
from vigil.privacy.masks import AttributePolicy, apply_masks
from vigil.privacy.redact import FaceRedactor, redact_faces
from vigil.privacy.redact_tensor import redacted_on_device
from vigil.recording.service import RecordingService
from vigil.sources import CameraReader
from vigil.sources.policy import SourcePolicy
from vigil.sources.pyav import PacketSink
from vigil.store.media import MediaStore
from vigil.vision.detector import Detector, ModelError, OnnxDetector
from vigil.vision.ocr import OcrSettings, SceneTextReader
from vigil.vision.overlay import draw_geometry, draw_tracks, encode_jpeg, fit_width
from vigil.vision.routing import DetectorRouter, Variant
from vigil.vision.torch_detector import TorchDetector

log = logging.getLogger(__name__)

HEALTH_PERIOD_S = 1.0


@dataclass(slots=True)
class _Camera:
    config: CameraConfig
    reader: CameraReader
    pipeline: CameraPipeline


@dataclass(slots=True)
class InferenceStats:
    batches: int = 0
    frames: int = 0
    seconds: float = 0.0
    last_batch_ms: float = 0.0
    skipped: int = 0  # frames the motion gate kept from inference


class LocalEngine:
    """Every camera analysed in this process; implements `EngineControl` for the API.

    `offline=True` is for analysing recordings: files play as fast as they decode, once, and the
    batcher blocks instead of dropping, so every sampled frame is analysed.
    """

    def __init__(
        self,
        config: VigilConfig,
        *,
        detector: Detector,
        redactor: FaceRedactor,
        bus: Bus,
        media: MediaStore,
        offline: bool = False,
        attributes: AttributePolicy | None = None,
        recording: RecordingService | None = None,
    ) -> None:
        self.config = config
        # Offline analysis of files records nothing: it is not a camera's timeline.
        self.recording = None if offline else recording
        self.detector = detector
        # Per-camera input size, classes, threshold and tiles (cameras[].detector).
        variant: Variant | None = None
        if isinstance(detector, OnnxDetector):
            variant = OnnxDetector
        elif isinstance(detector, TorchDetector):
            variant = detector.variant
        self.router = DetectorRouter(detector, config.detector, variant)
        self.redactor = redactor
        self.offline = offline
        self.batcher: Batcher = make_batcher(config.batching, offline=offline)
        self.bus = bus
        # Person colours are dropped unless the tenant allows them (privacy.person_colors).
        self.attributes = attributes or AttributePolicy(config.privacy.person_colors)
        self.output = EventOutput(
            bus,
            media,
            redactor,
            masks=self._privacy_masks,
            attributes=self.attributes,
            ocr=SceneTextReader(OcrSettings()),  # scene text on vehicle snapshots
        )
        self.inference = InferenceStats()
        # Cameras whose URL a tenant chose open only what this allows (vigil.sources.policy).
        self.sources = SourcePolicy.from_config(config)
        self._cameras: dict[str, _Camera] = {}
        self._lock = threading.RLock()  # guards _cameras and per-camera analysis state
        self._live_cache: dict[tuple[str, int, bool, int | None], bytes] = {}
        self._running = False
        self._busy = False
        self._thread = threading.Thread(target=self._analyse_forever, name="inference", daemon=True)
        self._health = threading.Thread(target=self._watch_sources, name="health", daemon=True)

    # lifecycle -------------------------------------------------------------------------------

    def start(self, cameras: Iterable[CameraConfig]) -> None:
        self._running = True
        self._thread.start()
        self._health.start()
        for camera in cameras:
            if camera.enabled:
                try:
                    self.add_camera(camera)
                except ModelError as error:  # one camera's detector settings: not the others
                    log.error("camera %s not started: %s", camera.id, error)

    def stop(self) -> None:
        with self._lock:
            cameras = list(self._cameras)
        for camera_id in cameras:
            self.remove_camera(camera_id)
        self._running = False
        self.batcher.close()
        for thread in (self._thread, self._health):
            if thread.is_alive():
                thread.join(timeout=10)
        self.output.close()
        if self.recording is not None:
            self.recording.close()

    def wait_until_done(self, progress: Callable[[int], None] | None = None) -> None:
        """Offline: return when every reader has finished and every frame has been analysed."""
        while True:
            with self._lock:
                cameras = list(self._cameras.values())
            done = all(camera.reader.finished for camera in cameras)
            if progress is not None:
                progress(sum(camera.pipeline.frames_analysed for camera in cameras))
            if done and self.batcher.pending == 0 and not self._busy:
                return
            time.sleep(0.05)

    # EngineControl ---------------------------------------------------------------------------

    def cameras(self) -> list[CameraConfig]:
        with self._lock:
            return [camera.config for camera in self._cameras.values()]

    def add_camera(self, camera: CameraConfig) -> None:
        self.router.check(camera.detector)  # ModelError: the API answers 422
        with self._lock:
            if camera.id in self._cameras:
                raise KeyError(camera.id)
            recorder = self.recording.start_camera(camera) if self.recording else None
            built = self._build(camera, recorder)
            self._cameras[camera.id] = built
        self._prioritise(camera)
        built.reader.start()

    def replace_camera(self, camera: CameraConfig) -> None:
        with self._lock:
            if camera.id not in self._cameras:
                raise KeyError(camera.id)  # before anything is built for it
        # Built before the running camera is stopped: settings the reader or the pipeline
        # refuse raise here and leave the running camera exactly as it was.
        self.router.check(camera.detector)
        built = self._build(camera)
        self.remove_camera(camera.id)
        if self.recording is not None:
            # Removing the camera closed its recording; the new reader feeds a new one.
            built = self._build(camera, self.recording.start_camera(camera))
        with self._lock:
            if camera.id in self._cameras:
                raise KeyError(camera.id)
            self._cameras[camera.id] = built
        self._prioritise(camera)
        built.reader.start()

    def analyse_as(
        self, camera: CameraConfig, preset: str | None, paused: bool,
        resume_after_s: float | None = None,
    ) -> None:
        self.replace_camera(analysed_at(camera, preset, paused))

    def _build(self, camera: CameraConfig, recorder: PacketSink | None = None) -> _Camera:
        trusted = self.sources.trusts(camera.id, camera.url)
        reader = CameraReader(
            camera.id,
            camera.url,
            camera.analysis_fps,
            self.batcher.put,
            loop=camera.loop and not self.offline,
            start_offset_s=camera.start_offset_s,
            realtime=not self.offline,
            hardware_decode=camera.hardware_decode,
            packets=recorder,
            policy=None if trusted else self.sources,
        )
        return _Camera(camera, reader, CameraPipeline(camera, self.config.tracker))

    def _prioritise(self, camera: CameraConfig) -> None:
        """Its place in load shedding; after any removal of the camera it replaces, which
        forgets the old one's."""
        if isinstance(self.batcher, DeadlineBatcher):
            self.batcher.set_priority(camera.id, camera.priority)

    def remove_camera(self, camera_id: str) -> None:
        with self._lock:
            camera = self._cameras[camera_id]
        camera.reader.stop()
        if self.recording is not None:
            self.recording.stop_camera(camera_id)
        self.batcher.remove_camera(camera_id)
        with self._lock:
            self._cameras.pop(camera_id, None)
            outputs = camera.pipeline.close()
            points = camera.pipeline.take_series()
        self._submit(outputs)
        if points:
            self.bus.publish(SeriesMessage(points=points))

    def status(self, camera_id: str) -> CameraStatus | None:
        with self._lock:
            camera = self._cameras.get(camera_id)
        return self._status(camera) if camera else None

    def statuses(self) -> list[CameraStatus]:
        with self._lock:
            cameras = list(self._cameras.values())
        return [self._status(camera) for camera in cameras]

    def live_jpeg(
        self, camera_id: str, *, overlay: bool = True, max_width: int | None = None
    ) -> tuple[bytes, int] | None:
        with self._lock:
            camera = self._cameras[camera_id]
            live = camera.pipeline.live
        if live is None:
            return None
        key = (camera_id, live.frame.seq, overlay, max_width)
        cached = self._live_cache.get(key)
        if cached is None:
            image, scale = self._live_picture(live.frame, camera.config.privacy_masks, max_width)
            if overlay:
                draw_geometry(image, camera.config, scale)
                draw_tracks(image, live.tracks, scale)
            cached = encode_jpeg(image, quality=75)
            # One entry per camera and view is enough: older frames are never asked for again.
            self._live_cache = {
                k: v
                for k, v in self._live_cache.items()
                if k[0] != camera_id or k[1] == live.frame.seq
            }
            self._live_cache[key] = cached
        return cached, live.frame.ts_ms

    def _live_picture(
        self, frame: Frame, masks: list[PrivacyMaskConfig], max_width: int | None
    ) -> tuple[np.ndarray, float]:
        """The frame scaled to `max_width`, masked and (with privacy.blur_live) face-redacted,
        and the scale applied."""
        pixels = frame.pixels
        if isinstance(pixels, DeviceImage) and self.config.privacy.blur_live:
            # Scaled, masked and redacted where it is; only the result is copied.
            return redacted_on_device(pixels, masks, self.redactor.detector, max_width)
        # Scale first: redaction then costs what the viewer's size needs, not the camera's.
        image, scale = fit_width(frame.image, max_width)
        # Privacy masks first: what lies under them is never encoded or served.
        apply_masks(image, masks, scale)
        if self.config.privacy.blur_live:
            redact_faces(image, self.redactor.detector)
        return image, scale

    def _detector_settings(self, frame: Frame) -> CameraDetectorConfig | None:
        with self._lock:
            camera = self._cameras.get(frame.camera_id)
        return camera.config.detector if camera is not None else None

    def _privacy_masks(self, camera_id: str) -> list[PrivacyMaskConfig]:
        with self._lock:
            camera = self._cameras.get(camera_id)
        return camera.config.privacy_masks if camera is not None else []

    def pipeline_metrics(self) -> dict[str, PipelineMetric]:
        stats, output = self.inference, self.output
        return {
            "inference_batches": PipelineMetric("counter", "Inference calls", stats.batches),
            "inference_frames": PipelineMetric("counter", "Frames through inference", stats.frames),
            "inference_skipped_frames": PipelineMetric(
                "counter", "Still frames that skipped inference (motion gate)", stats.skipped
            ),
            "inference_seconds": PipelineMetric(
                "counter", "Time spent in inference calls", stats.seconds
            ),
            "inference_last_batch_seconds": PipelineMetric(
                "gauge", "Duration of the latest inference call", stats.last_batch_ms / 1000
            ),
            "batcher_queue_depth": PipelineMetric(
                "gauge", "Frames waiting for inference", self.batcher.pending
            ),
            "output_queue_depth": PipelineMetric(
                "gauge", "Events waiting for snapshot and publication", output.pending
            ),
            "events_published": PipelineMetric(
                "counter", "Event messages published", output.published
            ),
            "snapshots_stored": PipelineMetric(
                "counter", "Face-blurred snapshots stored", output.snapshots
            ),
        }

    def module_stats(self, camera_id: str) -> dict[str, Any]:
        with self._lock:
            pipeline = self._cameras[camera_id].pipeline
            return {module.name: module.stats() for module in pipeline.modules}

    # analysis --------------------------------------------------------------------------------

    def frames_analysed(self) -> int:
        with self._lock:
            return sum(camera.pipeline.frames_analysed for camera in self._cameras.values())

    def tracks_by_class(self) -> dict[str, int]:
        """Distinct tracks seen per class, over all cameras (offline summaries)."""
        totals: dict[str, int] = {}
        with self._lock:
            for camera in self._cameras.values():
                for name, ids in camera.pipeline.tracks_seen.items():
                    totals[name] = totals.get(name, 0) + len(ids)
        return totals

    def events_by_module(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        with self._lock:
            for camera in self._cameras.values():
                for name, count in camera.pipeline.lifecycle.events_by_module.items():
                    totals[name] = totals.get(name, 0) + count
        return totals

    def _analyse_forever(self) -> None:
        while self._running:
            batch = self.batcher.next_batch(timeout=0.2)
            if not batch:
                continue
            self._busy = True
            try:
                self._analyse(batch)
            except Exception:
                # A bad frame or a module bug must not stop every camera's analysis.
                log.exception("analysis of a batch of %d frames failed", len(batch))
            finally:
                self._busy = self.batcher.pending > 0

    def _watch_sources(self) -> None:
        """Once a second, let modules judge each camera's input (offline, frozen, slow), which
        must work exactly when no frame arrives to trigger them."""
        while self._running:
            time.sleep(HEALTH_PERIOD_S)
            with self._lock:
                cameras = list(self._cameras.values())
            for camera in cameras:
                status, now = camera.reader.status, now_ms()
                with self._lock:
                    if camera.config.id not in self._cameras:
                        continue
                    outputs = camera.pipeline.check_source(status, now)
                self._submit(outputs)

    def _analyse(self, batch: list[Frame]) -> None:
        wanted = self._wanted(batch)
        todo = [frame for frame, want in zip(batch, wanted, strict=True) if want]
        stats = self.inference
        stats.skipped += len(batch) - len(todo)
        results: list[sv.Detections] = []
        if todo:
            started = time.perf_counter()
            results = self.router.detect(
                [self.router.image_of(frame) for frame in todo],
                [self._detector_settings(f) for f in todo],
            )
            elapsed = time.perf_counter() - started
            stats.batches += 1
            stats.frames += len(todo)
            stats.seconds += elapsed
            stats.last_batch_ms = elapsed * 1000
        found_iter = iter(results)
        detections = [next(found_iter) if want else None for want in wanted]
        for frame, found in zip(batch, detections, strict=True):
            with self._lock:
                camera = self._cameras.get(frame.camera_id)
                if camera is None:
                    continue  # removed while its frame was in flight
                outputs = camera.pipeline.process(frame, found)
                points = camera.pipeline.take_series()
            self._submit(outputs)
            if points:
                self.bus.publish(SeriesMessage(points=points))

    def _wanted(self, batch: list[Frame]) -> list[bool]:
        """Motion gating: per frame, whether it goes through the detector (a camera's `motion`
        module with gate_detection turns still frames away; see docs/modules/motion.md)."""
        wanted = []
        with self._lock:
            for frame in batch:
                camera = self._cameras.get(frame.camera_id)
                wanted.append(camera is not None and camera.pipeline.wants_detection(frame))
        return wanted

    def _submit(self, outputs: list[Output]) -> None:
        for message, snapshot in outputs:
            if self.recording is not None:
                self.recording.on_event(message)
            self.output.submit(message, snapshot)

    def _status(self, camera: _Camera) -> CameraStatus:
        source = camera.reader.status
        pipeline = camera.pipeline
        return CameraStatus(
            camera_id=camera.config.id,
            name=camera.config.name,
            tenant=camera.config.tenant,
            online=source.online,
            input_fps=round(source.input_fps, 2),
            analysed_fps=round(pipeline.analysed.rate(), 2),
            lag_ms=round(pipeline.lag_ms, 1),
            dropped_frames=self.batcher.dropped[camera.config.id],
            reconnects=source.reconnects,
            last_error=source.last_error,
            width=source.width,
            height=source.height,
            extra={"open_events": float(pipeline.lifecycle.open_events)},
            decoder=source.decoder,
            recording=self.recording.state(camera.config.id) if self.recording else "off",
            picture_ms=pipeline.live.frame.ts_ms if pipeline.live is not None else None,
            source_frame_ms=source.last_frame_ms,
            load_shed=isinstance(self.batcher, DeadlineBatcher)
            and self.batcher.shedding(camera.config.id),
        )
