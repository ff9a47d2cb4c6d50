"""Synthetic scenes for module tests: objects on straight paths, sampled at a frame rate."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import supervision as sv

from vigil.config import CameraConfig, parse_camera
from vigil.domain.coco import COCO_CLASSES
from vigil.domain.events import Phase
from vigil.modules.base import AnalyticsModule, Sample, Signal, Tracks
from vigil.modules.registry import build_modules

Box = tuple[float, float, float, float]
Obj = tuple[int, str, Box]

# 10 px per metre, axes aligned: image (x, y) px ↔ ground (x/10, y/10) m.
FLAT = {
    "image_points": [[0, 0], [100, 0], [100, 100], [0, 100]],
    "ground_points": [[0, 0], [10, 0], [10, 10], [0, 10]],
}


PLAZA = {"name": "plaza", "polygon": [[100, 100], [300, 100], [300, 300], [100, 300]]}


def box_at(x: float, y: float, w: float = 20, h: float = 60) -> Box:
    """A w×h box whose bottom centre (where the object stands) is (x, y)."""
    return (x - w / 2, y - h, x + w / 2, y)


def frame(ts_ms: int, *objects: Obj) -> Tracks:
    detections = sv.Detections(
        xyxy=np.array([b for _, _, b in objects], dtype=np.float32).reshape(-1, 4),
        confidence=np.full(len(objects), 0.8, dtype=np.float32),
        class_id=np.array([COCO_CLASSES.index(n) for _, n, _ in objects], dtype=int),
        tracker_id=np.array([t for t, _, _ in objects], dtype=int),
        data={"class_name": np.array([n for _, n, _ in objects], dtype=str).reshape(-1)},
    )
    return Tracks("cam", ts_ms, detections, (480, 640))


def camera(modules: dict[str, Any], calibrated: bool = False, **geometry: Any) -> CameraConfig:
    data: dict[str, Any] = {
        "id": "cam",
        "url": "clip.mp4",
        "zones": geometry.get("zones", [PLAZA]),
        "lines": geometry.get("lines", [{"name": "gate", "start": [400, 0], "end": [400, 480]}]),
        "modules": modules,
    }
    if calibrated:
        data["calibration"] = FLAT
    return parse_camera(data)


def build(name: str, settings: dict[str, Any], **camera_options: Any) -> AnalyticsModule:
    (module,) = build_modules(camera({name: settings}, **camera_options))
    return module


@dataclass
class Path:
    """An object moving from `start` at `velocity` px/s between t0 and t1 (ms)."""

    track: int
    cls: str
    start: tuple[float, float]
    velocity: tuple[float, float] = (0.0, 0.0)
    t0: int = 0
    t1: int = 10**12
    w: float = 20
    h: float = 60

    def at(self, ts: int) -> Obj | None:
        if not self.t0 <= ts <= self.t1:
            return None
        dt = (ts - self.t0) / 1000
        x = self.start[0] + self.velocity[0] * dt
        y = self.start[1] + self.velocity[1] * dt
        return (self.track, self.cls, box_at(x, y, self.w, self.h))


def scene(times: Iterable[int], *objects: Path | Callable[[int], Obj | None]) -> list[Tracks]:
    frames = []
    for ts in times:
        present = [o.at(ts) if isinstance(o, Path) else o(ts) for o in objects]
        frames.append(frame(ts, *[o for o in present if o is not None]))
    return frames


def every(step_ms: int, end_ms: int, start_ms: int = 0) -> range:
    return range(start_ms, end_ms + 1, step_ms)


@dataclass
class Run:
    signals: list[tuple[int, Signal]]
    samples: list[tuple[int, Sample]]

    def phases(self, type_: str | None = None) -> list[Phase]:
        return [s.phase for _, s in self.signals if type_ is None or s.type == type_]

    def at(self, phase: Phase) -> list[tuple[int, Signal]]:
        return [(ts, s) for ts, s in self.signals if s.phase is phase]

    def starts(self) -> list[tuple[int, Signal]]:
        return self.at(Phase.START)

    def ends(self) -> list[tuple[int, Signal]]:
        return self.at(Phase.END)

    def metric(self, name: str, place: str | None = None) -> list[tuple[int, float]]:
        return [
            (ts, s.value)
            for ts, s in self.samples
            if s.metric == name and (place is None or s.place == place)
        ]


def run(module: AnalyticsModule, frames: list[Tracks], finish: bool = False) -> Run:
    """Feed frames as the pipeline does (update, then measure); optionally stop the camera."""
    signals: list[tuple[int, Signal]] = []
    samples: list[tuple[int, Sample]] = []
    for tracks in frames:
        signals += [(tracks.ts_ms, s) for s in module.update(tracks)]
        samples += [(tracks.ts_ms, s) for s in module.measure(tracks)]
    if finish and frames:
        signals += [(frames[-1].ts_ms, s) for s in module.finish(frames[-1].ts_ms)]
    return Run(signals, samples)
