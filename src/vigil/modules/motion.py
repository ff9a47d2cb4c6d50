"""Motion detection on a small grayscale copy of the frame, with masks; can gate detection.

A pixel moves when it differs from a running-average background by more than `threshold` gray
levels; the motion fraction is the share of watched (unmasked) pixels that move. A `motion` scene
event starts when the fraction reaches `min_area` and ends after `end_after_s` below it.

With `gate_detection`, the camera's pipeline asks this module before inference whether a frame
is worth detecting: only frames that differ from the frame last sent to the detector (by
`gate_min_area` of the watched pixels, or after `gate_refresh_s`) are; the others reuse that
frame's detections (see docs/modules/motion.md for the trade-off).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import cv2
import numpy as np
from pydantic import Field

from vigil.config import CameraConfig
from vigil.domain.events import Phase
from vigil.modules.base import ModuleBase, ModuleSettings, Sample, Signal, Tracks
from vigil.modules.debounce import Debounce
from vigil.modules.registry import register
from vigil.vision.pixels import PolygonPoints, polygon_mask, small_gray

KEY = ("motion",)


class MotionSettings(ModuleSettings):
    threshold: int = Field(
        25, ge=1, le=255, description="Gray-level difference from the background that counts "
        "as a moving pixel (0-255)"
    )
    min_area: float = Field(
        0.005, gt=0.0, le=1.0, description="Fraction of the watched image that must move for "
        "motion (0.005 = 0.5 %)"
    )
    background_s: float = Field(
        2.0, gt=0.0, description="Time constant of the running-average background, seconds: "
        "an object that stops becomes background after a few of these"
    )
    min_duration_s: float = Field(
        0.0, ge=0.0, description="Motion must last this long before an event starts"
    )
    end_after_s: float = Field(2.0, ge=0.0, description="No motion this long ends the event")
    masks: list[PolygonPoints] = Field(
        default_factory=list, description="Polygons (frame pixels) where motion is ignored: "
        "trees, flags, screens, the camera's own clock"
    )
    gate_detection: bool = Field(
        False, description="Skip object detection on frames without motion (saves inference; "
        "see the trade-off in the docs)"
    )
    gate_min_area: float = Field(
        0.001, gt=0.0, le=1.0, description="With gate_detection: fraction of the watched image "
        "that must differ from the last detected frame to detect again"
    )
    gate_refresh_s: float = Field(
        5.0, ge=0.0, description="With gate_detection: detect at least this often even "
        "without motion (0 = only on motion)"
    )


@register
class MotionModule(ModuleBase):
    name: ClassVar[str] = "motion"
    description: ClassVar[str] = (
        "Motion detection with masks: motion start/end events, motion fraction samples; "
        "optionally skips object detection on still frames"
    )
    settings_model: ClassVar[type[MotionSettings]] = MotionSettings

    def __init__(self, settings: MotionSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.persistence = Debounce(settings.min_duration_s, settings.end_after_s)
        self._watched: np.ndarray | None = None  # bool mask of unmasked pixels (small image)
        self._watched_count = 0
        self._frame_shape: tuple[int, int] | None = None
        self._background: np.ndarray | None = None  # float32, small image
        self._last_ts: int | None = None
        self._fraction = 0.0
        self._peak = 0.0
        self._started_ms = 0
        self.events = 0
        # detection gate
        self._gate_reference: np.ndarray | None = None
        self._gate_ts: int | None = None
        self.frames_detected = 0
        self.frames_skipped = 0

    # detection gate (called by the camera pipeline before inference) ------------------------

    def wants_detection(self, image: np.ndarray, ts_ms: int) -> bool:
        """Whether this frame should go through the detector; always True without gating."""
        if not self.settings.gate_detection:
            return True
        small = self._prepare(image)
        reference = self._gate_reference
        refresh_ms = self.settings.gate_refresh_s * 1000
        due = self._gate_ts is None or (refresh_ms > 0 and ts_ms - self._gate_ts >= refresh_ms)
        if reference is None or reference.shape != small.shape or due:
            changed = True
        else:
            moving = (cv2.absdiff(small, reference) > self.settings.threshold) & self._mask()
            changed = int(moving.sum()) >= self.settings.gate_min_area * self._watched_count
        if changed:
            self._gate_reference, self._gate_ts = small, ts_ms
            self.frames_detected += 1
        else:
            self.frames_skipped += 1
        return changed

    # module interface -------------------------------------------------------------------------

    def update(self, tracks: Tracks) -> list[Signal]:
        if tracks.image is None:
            return []
        fraction = self._measure(tracks.image, tracks.ts_ms)
        moving = fraction >= self.settings.min_area
        if self.persistence.active:
            self._peak = max(self._peak, fraction)
        change = self.persistence.step(tracks.ts_ms, moving)
        if change is Phase.START:
            self.events += 1
            self._peak, self._started_ms = fraction, tracks.ts_ms
            return [
                Signal(KEY, Phase.START, "motion", attributes={"area": round(fraction, 4)})
            ]
        if change is Phase.END:
            return [self._end(tracks.ts_ms)]
        return []

    def measure(self, tracks: Tracks) -> list[Sample]:
        if tracks.image is None:
            return []
        return [Sample("motion_fraction", round(self._fraction, 5))]

    def finish(self, ts_ms: int) -> list[Signal]:
        return [self._end(ts_ms)] if self.persistence.reset() else []

    def stats(self) -> dict[str, Any]:
        return {
            "motion": self.persistence.active,
            "fraction": round(self._fraction, 4),
            "events": self.events,
            "frames_detected": self.frames_detected,
            "frames_skipped": self.frames_skipped,
        }

    # internals --------------------------------------------------------------------------------

    def _end(self, ts_ms: int) -> Signal:
        duration = max(0, ts_ms - self._started_ms) / 1000
        return Signal(
            KEY,
            Phase.END,
            "motion",
            attributes={"peak_area": round(self._peak, 4), "duration_s": round(duration, 1)},
        )

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        """The small, lightly smoothed gray frame; resets the model if the size changed."""
        small = cv2.GaussianBlur(small_gray(image), (3, 3), 0)
        shape = (int(image.shape[0]), int(image.shape[1]))
        if shape != self._frame_shape or self._watched is None:
            self._frame_shape = shape
            masked = polygon_mask(self.settings.masks, shape, small.shape[:2])
            self._watched = ~masked
            self._watched_count = max(1, int(self._watched.sum()))
            self._background, self._gate_reference = None, None
        return small

    def _mask(self) -> np.ndarray:
        assert self._watched is not None
        return self._watched

    def _measure(self, image: np.ndarray, ts_ms: int) -> float:
        if ts_ms == self._last_ts:
            return self._fraction  # already measured (update and measure share a frame)
        small = self._prepare(image)
        background = self._background
        if background is None:
            self._background = small.astype(np.float32)
            self._fraction = 0.0
        else:
            moving = cv2.absdiff(small.astype(np.float32), background) > self.settings.threshold
            self._fraction = float((moving & self._mask()).sum()) / self._watched_count
            elapsed_s = max(0, ts_ms - (self._last_ts or ts_ms)) / 1000
            alpha = 1.0 - math.exp(-elapsed_s / self.settings.background_s)
            cv2.accumulateWeighted(small.astype(np.float32), background, alpha)
        self._last_ts = ts_ms
        return self._fraction
