"""Everything the pipeline keeps for one camera: tracker, modules, event lifecycle, live frame."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import supervision as sv

from vigil.config import CameraConfig, TrackerConfig
from vigil.domain.events import EventMessage
from vigil.domain.frames import Frame, SourceStatus, now_ms
from vigil.domain.series_points import SeriesPoint
from vigil.modules.base import AnalyticsModule, Tracks
from vigil.modules.registry import build_modules
from vigil.pipeline.lifecycle import EventLifecycle, SnapshotRequest
from vigil.pipeline.series_aggregator import SeriesAggregator
from vigil.vision.tracker import CameraTracker

Output = tuple[EventMessage, SnapshotRequest | None]


@runtime_checkable
class DetectionGate(Protocol):
    """A module that can tell, before inference, that a frame need not be detected (motion)."""

    def wants_detection(self, image: np.ndarray, ts_ms: int) -> bool: ...


@dataclass(slots=True)
class LiveState:
    frame: Frame
    tracks: sv.Detections


class RateMeter:
    """Events per second over a sliding window."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()

    def tick(self) -> None:
        now = time.monotonic()
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    def rate(self) -> float:
        now = time.monotonic()
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(now - self._times[0], 1e-6)


class CameraPipeline:
    def __init__(self, config: CameraConfig, tracker_config: TrackerConfig) -> None:
        self.config = config
        self.tracker = CameraTracker(tracker_config, config.analysis_fps)
        self.modules: list[AnalyticsModule] = build_modules(config)
        self.lifecycle = EventLifecycle(config)
        self.live: LiveState | None = None
        self.analysed = RateMeter()
        self.lag_ms = 0.0
        self.frames_analysed = 0
        self.tracks_seen: dict[str, set[int]] = {}
        self.series = SeriesAggregator(config.tenant, config.id)
        self._series_ready: list[SeriesPoint] = []
        # Motion gating: frames a gate turns away skip inference and reuse the detections of the
        # last detected frame (see docs/modules/motion.md).
        self._gates = [m for m in self.modules if isinstance(m, DetectionGate)]
        self._last_detections: sv.Detections = sv.Detections.empty()

    def wants_detection(self, frame: Frame) -> bool:
        """False when a gating module (motion with gate_detection) sees nothing new in the frame:
        the engine then skips inference and calls `process(frame, None)`."""
        # Every gate sees every frame (each keeps its own reference), hence no short-circuit.
        verdicts = [gate.wants_detection(frame.image, frame.ts_ms) for gate in self._gates]
        return all(verdicts)

    def process(self, frame: Frame, detections: sv.Detections | None) -> list[Output]:
        """`detections` None: the frame was not detected (motion gate); the tracker is advanced
        with the detections of the last detected frame, which a still scene still shows."""
        if detections is None:
            detections = self._last_detections
        else:
            self._last_detections = detections
        tracks = self.tracker.update(detections, frame.ts_ms)
        self.live = LiveState(frame, tracks)
        self.frames_analysed += 1
        self.analysed.tick()
        self.lag_ms = max(0.0, float(now_ms() - frame.ts_ms))
        self._remember_tracks(tracks)
        view = Tracks(frame.camera_id, frame.ts_ms, tracks, frame.shape, frame)
        out: list[Output] = []
        for module in self.modules:
            out.extend(self.lifecycle.apply(module.name, module.update(view), frame, frame.ts_ms))
            samples = module.measure(view)
            if samples:
                self._series_ready.extend(self.series.add(module.name, samples, frame.ts_ms))
        return out

    def take_series(self) -> list[SeriesPoint]:
        """Series points ready to publish since the last call."""
        ready, self._series_ready = self._series_ready, []
        return ready

    def check_source(self, status: SourceStatus, now: int) -> list[Output]:
        out: list[Output] = []
        for module in self.modules:
            signals = module.on_status(status, now)
            out.extend(self.lifecycle.apply(module.name, signals, None, now))
        return out

    def close(self) -> list[Output]:
        """End every open event, at the time of the last analysed frame."""
        ts = self.live.frame.ts_ms if self.live else now_ms()
        self._series_ready.extend(self.series.flush())
        return self.lifecycle.close_all({m.name: m.finish(ts) for m in self.modules}, ts)

    def _remember_tracks(self, tracks: sv.Detections) -> None:
        if tracks.tracker_id is None:
            return
        names = tracks.data.get("class_name", np.zeros(0, dtype=str))
        for name, track_id in zip(names, tracks.tracker_id, strict=True):
            self.tracks_seen.setdefault(str(name), set()).add(int(track_id))
