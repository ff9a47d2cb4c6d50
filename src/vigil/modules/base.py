"""The analytics module interface: pure functions of tracks over time, no I/O.

A module is created once per camera with its validated settings and the camera's geometry. On
every analysed frame it receives that frame's tracks and returns signals; the pipeline turns
signals into events (ids, lifecycle, snapshots), so modules never deal with storage or images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
import supervision as sv
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from vigil.config import CameraConfig
from vigil.domain.events import Phase
from vigil.domain.frames import Frame, SourceStatus

MODULE_NUMBER_LIMIT = 1e9


class ModuleSettings(BaseModel):
    """Base of every module's settings: unknown keys are errors, not silently ignored."""

    # NaN and infinities are never a meaningful setting and break comparisons downstream.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        # A tenant admin sets these; each module states its own lower bounds, and this one
        # ceiling keeps every duration, distance and count far from what overflows a timer
        # or a date computation (1e9 s is about 31 years).
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and abs(value) > MODULE_NUMBER_LIMIT:
            raise ValueError(f"must be at most {MODULE_NUMBER_LIMIT:g} in size")
        return value


@dataclass(slots=True)
class Tracks:
    """The confirmed tracks of one camera on one analysed frame.

    `detections` carries `tracker_id`, `class_id`, `confidence` and `data["class_name"]`.
    `image` is the frame itself (BGR), for modules that look at pixels (motion, tampering);
    modules must never store or send it: images leave the pipeline only face-blurred.
    `source` is that image, or the frame it comes from: a frame still on the GPU is copied to
    the host only when a module reads `image`, so cameras whose modules read only detections
    never copy their frames.
    """

    camera_id: str
    ts_ms: int
    detections: sv.Detections
    frame_shape: tuple[int, int]  # height, width
    source: Frame | np.ndarray | None = None

    @property
    def image(self) -> np.ndarray | None:
        source = self.source
        return source.image if isinstance(source, Frame) else source

    def class_names(self) -> np.ndarray:
        return np.asarray(self.detections.data.get("class_name", np.array([], dtype=str)))


@dataclass(slots=True)
class Signal:
    """A module's statement about one object: an event starts, goes on, or ends.

    `key` identifies the event within the module and camera across frames (for instance zone
    name and track id); the pipeline maps it to one event id. An instantaneous event (a line
    crossing) is a single signal with phase END and `instant=True`. A scene event (tampering,
    a crowd) concerns no single object: its object fields stay None.
    """

    key: tuple[Any, ...]
    phase: Phase
    type: str
    track_id: int | None = None
    class_id: int | None = None
    class_name: str | None = None
    score: float | None = None
    box: tuple[float, float, float, float] | None = None
    zone: str | None = None
    line: str | None = None
    direction: str | None = None
    dwell_s: float | None = None
    instant: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Sample:
    """One measurement for the statistics series (occupancy, queue length, speed …).

    The pipeline aggregates a module's samples per minute (count, sum, min, max) per camera,
    module, metric, place and class; the API serves them as time series and CSV.
    """

    metric: str
    value: float
    place: str | None = None  # zone, line or slot name
    class_name: str | None = None


class AnalyticsModule(Protocol):
    """What every module provides. Implementations live one per file in `vigil.modules`."""

    name: ClassVar[str]
    description: ClassVar[str]
    settings_model: ClassVar[type[ModuleSettings]]

    def __init__(self, settings: Any, camera: CameraConfig) -> None: ...

    def update(self, tracks: Tracks) -> list[Signal]:
        """Signals caused by this frame's tracks."""
        ...

    def finish(self, ts_ms: int) -> list[Signal]:
        """END signals for everything still open, when the camera stops."""
        ...

    def measure(self, tracks: Tracks) -> list[Sample]:
        """Samples for the statistics series, after `update` on the same frame."""
        ...

    def on_status(self, status: SourceStatus, now_ms: int) -> list[Signal]:
        """Signals about the camera's input itself, called about once a second even when no
        frame arrives (stream health: offline, frozen, low frame rate)."""
        ...

    def stats(self) -> dict[str, Any]:
        """Live counters for the UI (for example per-class line counts)."""
        ...

    @classmethod
    def check_camera(cls, settings: Any, camera: CameraConfig) -> None:
        """Config check of what the module needs of the camera beyond its zones and lines (a
        ground calibration, say); raises ValueError naming the setting at fault."""
        ...


class ModuleBase:
    """Defaults for the optional parts of a module: most modules only need `update`."""

    def finish(self, ts_ms: int) -> list[Signal]:
        return []

    def measure(self, tracks: Tracks) -> list[Sample]:
        return []

    def on_status(self, status: SourceStatus, now_ms: int) -> list[Signal]:
        return []

    def stats(self) -> dict[str, Any]:
        return {}

    @classmethod
    def check_camera(cls, settings: Any, camera: CameraConfig) -> None:
        return None


def class_allowed(class_name: str, allowed: list[str] | None) -> bool:
    return allowed is None or class_name in allowed


def signal_for(
    tracks: Tracks, index: int, key: tuple[Any, ...], phase: Phase, type_: str, **fields: Any
) -> Signal:
    """A signal about the object at `index` of this frame's detections."""
    detections = tracks.detections
    x1, y1, x2, y2 = (float(v) for v in detections.xyxy[index])
    confidence = detections.confidence
    return Signal(
        key=key,
        phase=phase,
        type=type_,
        track_id=int(detections.tracker_id[index]),  # type: ignore[index]
        class_id=int(detections.class_id[index]),  # type: ignore[index]
        class_name=str(tracks.class_names()[index]),
        score=float(confidence[index]) if confidence is not None else 1.0,
        box=(x1, y1, x2, y2),
        **fields,
    )
