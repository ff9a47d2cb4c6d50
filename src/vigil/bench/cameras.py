"""`vigil bench cameras`: many cameras in real time through scheduler, detector and tracking.

Each camera delivers a frame every 1/fps seconds (decoder threads keep the schedule); the
inference thread takes batches, detects, and runs every camera's tracker and modules, as the
engine does. A frame's lag runs from when its camera delivered it to when its modules finished.
A camera is sustained when at least 95 % of its frames were analysed and none later than 1 s.
The same cameras, feeds and detector run twice: under today's batching (FrameBatcher, the
shipped defaults) and under the deadline scheduler with large batches.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import supervision as sv

from vigil.config import BatchingConfig, CameraConfig, TrackerConfig
from vigil.domain.coco import COCO_CLASSES
from vigil.domain.frames import DeviceImage, Frame, now_ms
from vigil.pipeline.batcher import FrameBatcher
from vigil.pipeline.camera import CameraPipeline
from vigil.pipeline.deadline import Batcher, DeadlineBatcher
from vigil.pipeline.feeds import Feed
from vigil.sources.base import SourceError
from vigil.vision.detector import Detector
from vigil.vision.routing import detector_input
from vigil.vision.torch_detector import TorchDetector
from vigil.vision.tracker import CameraTracker

STAGES = ("decode", "inference", "tracking", "modules")
SUSTAINED_SHARE = 0.95
LAG_LIMIT_S = 1.0
# Frames captured near the end of the window still count if analysed this soon after it.
_GRACE_S = LAG_LIMIT_S


@dataclass(frozen=True, slots=True)
class LoadSettings:
    cameras: int
    camera_fps: float = 5.0
    seconds: float = 20.0
    warmup_s: float = 5.0
    decode_threads: int = 4


@dataclass
class StageTimes:
    """Busy seconds per stage over the measuring window, summed over threads."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] += seconds

    def shares(self) -> dict[str, float]:
        total = sum(self.seconds.values())
        return {k: round(v / total, 3) if total else 0.0 for k, v in self.seconds.items()}


class PacedDetector:
    """A stand-in detector of known speed: a call on n images takes `per_call_s + n / fps`
    (sleeping, as a GPU call leaves the CPU free) and finds three people walking across."""

    labels = COCO_CLASSES

    def __init__(self, frames_per_s: float, per_call_s: float = 0.0) -> None:
        self.frames_per_s = frames_per_s
        self.per_call_s = per_call_s
        self._calls = 0

    def detect(self, images: list[np.ndarray]) -> list[sv.Detections]:
        time.sleep(self.per_call_s + len(images) / self.frames_per_s)
        self._calls += 1
        return [self._people(image.shape[1], image.shape[0]) for image in images]

    def _people(self, width: int, height: int) -> sv.Detections:
        step = (self._calls % 50) / 50
        xs = (np.array([0.1, 0.4, 0.7]) + 0.2 * step) * width
        boxes = np.stack(
            [xs, np.full(3, 0.4 * height), xs + 0.06 * width, np.full(3, 0.8 * height)], 1
        )
        return sv.Detections(
            xyxy=boxes.astype(np.float32),
            confidence=np.full(3, 0.9, dtype=np.float32),
            class_id=np.zeros(3, dtype=np.int64),
            data={"class_name": np.array(["person"] * 3)},
        )


class _TimedTracker:
    """Wraps a camera's tracker to attribute its time to `tracking`, the rest to `modules`."""

    def __init__(self, inner: CameraTracker) -> None:
        self.inner = inner
        self.last_s = 0.0

    def update(self, detections: sv.Detections, ts_ms: int) -> sv.Detections:
        started = time.perf_counter()
        tracks = self.inner.update(detections, ts_ms)
        self.last_s = time.perf_counter() - started
        return tracks


@dataclass
class _Run:
    settings: LoadSettings
    batcher: Batcher
    feeds: Sequence[Feed]
    detector: Detector
    pipelines: list[CameraPipeline]
    trackers: list[_TimedTracker]
    window: tuple[float, float]
    stages: StageTimes = field(default_factory=StageTimes)
    captured: dict[tuple[str, int], float] = field(default_factory=dict)
    offered: list[int] = field(default_factory=list)
    behind: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    analysed: list[int] = field(default_factory=list)
    lags: list[list[float]] = field(default_factory=list)
    batches: int = 0
    # Frames that stayed on the GPU from decoding, and how many of them were copied to host
    # memory anyway (by modules that read pixels).
    device_frames: int = 0
    host_copies: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def in_window(self, t: float) -> bool:
        return self.window[0] <= t < self.window[1]


def camera_ids(count: int) -> list[str]:
    return [f"cam-{i:04d}" for i in range(count)]


def run_load(
    settings: LoadSettings,
    batcher: Batcher,
    feeds: Sequence[Feed],
    detector: Detector,
    template: CameraConfig,
    tracker: TrackerConfig,
    ids: Sequence[str] = (),
) -> dict[str, Any]:
    """Run `settings.cameras` cameras (named `ids`, or cam-0000 …) against `batcher` and
    `detector`; figures of the window."""
    ids = list(ids) or camera_ids(settings.cameras)
    pipelines, trackers = [], []
    for camera_id in ids:
        pipeline = CameraPipeline(template.model_copy(update={"id": camera_id}), tracker)
        timed = _TimedTracker(pipeline.tracker)
        pipeline.tracker = timed  # type: ignore[assignment]  # same update() signature
        pipelines.append(pipeline)
        trackers.append(timed)
    start = time.monotonic()
    window = (start + settings.warmup_s, start + settings.warmup_s + settings.seconds)
    run = _Run(
        settings,
        batcher,
        feeds,
        detector,
        pipelines,
        trackers,
        window,
        offered=[0] * len(ids),
        behind=[0] * len(ids),
        analysed=[0] * len(ids),
        lags=[[] for _ in ids],
    )
    threads = [
        threading.Thread(target=_decode_forever, args=(run, ids, part), daemon=True)
        for part in range(max(1, min(settings.decode_threads, len(ids))))
    ]
    for thread in threads:
        thread.start()
    index = {camera_id: i for i, camera_id in enumerate(ids)}
    try:
        while time.monotonic() < window[1] + _GRACE_S:
            batch = batcher.next_batch(timeout=0.2)
            if batch:
                _analyse(run, batch, index)
    finally:
        run.stop.set()
        batcher.close()
        for thread in threads:
            thread.join(timeout=5)
        for feed in feeds:
            feed.close()
    return _summary(run)


def _decode_forever(run: _Run, ids: list[str], part: int) -> None:
    """Deliver the frames of cameras part, part + threads, … on each camera's schedule."""
    threads = max(1, min(run.settings.decode_threads, len(ids)))
    period = 1.0 / run.settings.camera_fps
    now = time.monotonic()
    mine = range(part, len(ids), threads)
    # Cameras start spread over one frame interval, as real cameras are never in step.
    due = [(now + period * i / len(ids), i) for i in mine]
    heapq.heapify(due)
    seqs = dict.fromkeys(mine, 0)
    while due and not run.stop.is_set():
        at, i = heapq.heappop(due)
        wait = at - time.monotonic()
        if wait > 0 and run.stop.wait(wait):
            return
        late = time.monotonic() - at
        if late > period:  # the decoders fell a whole frame behind: the camera's frame is lost
            if run.in_window(at):
                run.behind[i] += 1
            heapq.heappush(due, (at + period, i))
            continue
        started = time.perf_counter()
        try:
            image = run.feeds[i].next_image()
        except SourceError as error:
            run.errors[i] = str(error)
            heapq.heappush(due, (at + 1.0, i))
            continue
        if run.in_window(at):
            run.stages.add("decode", time.perf_counter() - started)
            run.offered[i] += 1
        seq = seqs[i]
        seqs[i] = seq + 1
        run.captured[(ids[i], seq)] = at
        # Stamped with its capture time, as a live reader stamps a frame on receipt.
        captured_ms = now_ms() - round((time.monotonic() - at) * 1000)
        run.batcher.put(Frame(ids[i], seq, captured_ms, image))
        heapq.heappush(due, (at + period, i))


def _analyse(run: _Run, batch: list[Frame], index: dict[str, int]) -> None:
    started = time.perf_counter()
    device = isinstance(run.detector, TorchDetector)
    found = run.detector.detect([detector_input(frame, device) for frame in batch])
    inference_s = time.perf_counter() - started
    measuring = run.in_window(time.monotonic())
    if measuring:
        run.stages.add("inference", inference_s)
        run.batches += 1
    for frame, detections in zip(batch, found, strict=True):
        i = index[frame.camera_id]
        started = time.perf_counter()
        run.pipelines[i].process(frame, detections)
        took = time.perf_counter() - started
        captured = run.captured.pop((frame.camera_id, frame.seq))
        if run.in_window(captured):
            if isinstance(frame.pixels, DeviceImage):
                run.device_frames += 1
                run.host_copies += frame.pixels.host_copies
            run.stages.add("tracking", run.trackers[i].last_s)
            run.stages.add("modules", took - run.trackers[i].last_s)
            run.analysed[i] += 1
            run.lags[i].append(time.monotonic() - captured)


def _summary(run: _Run) -> dict[str, Any]:
    settings = run.settings
    expected = settings.camera_fps * settings.seconds
    all_lags = np.array([lag for lags in run.lags for lag in lags]) if run.batches else np.zeros(0)
    sustained = sum(
        1
        for analysed, lags in zip(run.analysed, run.lags, strict=True)
        if analysed >= SUSTAINED_SHARE * expected and max(lags, default=0.0) < LAG_LIMIT_S
    )
    analysed_total = sum(run.analysed)
    offered_total = sum(run.offered) + sum(run.behind)

    def quantile(q: float) -> float:
        return round(float(np.quantile(all_lags, q)), 3) if all_lags.size else 0.0

    return {
        "cameras": settings.cameras,
        "cameras_sustained": sustained,
        "analysed_fps": round(analysed_total / settings.seconds, 1),
        "wanted_fps": round(settings.cameras * settings.camera_fps, 1),
        "dropped_share": round(1 - analysed_total / offered_total, 3) if offered_total else 0.0,
        "frames_behind_decode": sum(run.behind),
        "lag_p50_s": quantile(0.5),
        "lag_p99_s": quantile(0.99),
        "lag_max_s": round(float(all_lags.max()), 3) if all_lags.size else 0.0,
        "mean_batch": round(analysed_total / run.batches, 1) if run.batches else 0.0,
        "fairness_min_max": round(min(run.analysed) / max(run.analysed), 3)
        if max(run.analysed, default=0)
        else 0.0,
        "device_frames": run.device_frames,
        "device_frames_copied_to_host": run.host_copies,
        "time_share": run.stages.shares(),
        "busy_s": {k: round(v, 2) for k, v in run.stages.seconds.items()},
        "source_errors": sorted(set(run.errors.values()))[:3],
    }


def baseline_batcher() -> FrameBatcher:
    """Today's batching, as shipped: the BatchingConfig defaults, no lag budget."""
    defaults = BatchingConfig()
    return FrameBatcher(defaults.max_batch, defaults.max_wait_ms, defaults.queue_per_camera)


def deadline_batcher(max_batch: int, max_wait_ms: float, max_lag_ms: float) -> DeadlineBatcher:
    return DeadlineBatcher(max_batch, max_wait_ms, BatchingConfig().queue_per_camera, max_lag_ms)
