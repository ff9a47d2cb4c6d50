"""Tampering: camera moved, turned or scene changed.

The module learns the scene's persistent edges: the share of frames in which each pixel of the
160-px gray copy is an edge (Canny), first over `learn_s`, then following slow changes (shadows
wandering over the day, lighting) with time constant `adapt_s`. Pixels that are edges in at least
half of the frames form the reference; people and cars passing by are not persistent and stay
out. On every frame, the share of the frame's edges that lie on a reference edge (within one
pixel, about 5 px of a 768-px frame) is compared with what chance alone gives; this `match` is
near 1 for the learned view and near 0 for another one. Lighting changes alter how many edges
there are, not where they are. Below `min_match` for `duration_s` the camera has moved: a
`tamper.moved` event, with the estimated image shift when the camera was only panned or tilted.

An image with too few edges (covered, defocused, dark) is not judged. A view that stays changed
for `relearn_after_s` is accepted as the new normal: the event ends and the view is learned anew.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import cv2
import numpy as np
from pydantic import Field

from vigil.config import CameraConfig
from vigil.modules.base import ModuleBase, Signal, Tracks
from vigil.modules.registry import register
from vigil.modules.scene_baseline import (
    AdaptSeconds,
    BaselineSettings,
    FaultSeconds,
    SceneBaseline,
)
from vigil.vision.pixels import small_gray

KEY = ("moved",)
TYPE = "tamper.moved"
_KERNEL = np.ones((3, 3), np.uint8)
ADAPT_EVERY_S = 1.0
MIN_EDGE_SHARE = 0.3  # frames with fewer edges than this share of the reference are not judged


def edge_map(gray: np.ndarray) -> np.ndarray:
    return cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 50, 150) > 0


class MovedSettings(BaselineSettings):
    min_match: float = Field(
        0.55, gt=0.0, lt=1.0, description="Edge match with the learned view (0 = unrelated, "
        "1 = identical) below which the camera counts as moved"
    )
    duration_s: FaultSeconds = 5.0  # a moved view is plain at once; blur builds up slowly
    adapt_s: AdaptSeconds = 600.0


@register
class TamperMovedModule(ModuleBase):
    name: ClassVar[str] = "tamper_moved"
    description: ClassVar[str] = (
        "Tampering: camera moved or scene changed (edges no longer match the learned view)"
    )
    settings_model: ClassVar[type[MovedSettings]] = MovedSettings

    def __init__(self, settings: MovedSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.scene = SceneBaseline(KEY, TYPE, settings)
        self.match = 1.0
        self._frequency: np.ndarray | None = None  # share of frames each pixel is an edge
        self._mean_gray: np.ndarray | None = None  # for the shift estimate
        self._learned_frames = 0
        self._reference: np.ndarray | None = None  # dilated persistent edges
        self._reference_edges = 0
        self._chance = 0.0
        self._last_ts: int | None = None  # last adaptation of the reference

    @property
    def learning(self) -> bool:
        return not self.scene.learned

    @property
    def events(self) -> int:
        return self.scene.events

    def update(self, tracks: Tracks) -> list[Signal]:
        if tracks.image is None:
            return []
        ts = tracks.ts_ms
        small = small_gray(tracks.image)
        edges = edge_map(small)
        if self._frequency is not None and self._frequency.shape != edges.shape:
            self.scene.forget()  # the camera's resolution changed
        if not self.scene.learned:
            self._learn(small, edges, ts)
            return []
        assert self._reference is not None
        count = int(edges.sum())
        if count < MIN_EDGE_SHARE * self._reference_edges:
            return []  # too little structure to judge (covered, blurred, dark)
        precision = float((edges & self._reference).sum()) / count
        self.match = max(0.0, (precision - self._chance) / max(1e-6, 1.0 - self._chance))
        moved = self.match < self.settings.min_match
        if not moved and not self.scene.active:
            self._adapt(small, edges, ts)
        image = tracks.image
        return self.scene.judge(ts, moved, lambda: self._details(small, image.shape[1]))

    def relearn(self) -> None:
        """Forget the reference view and learn it again from the coming frames."""
        self.scene.relearn()

    def finish(self, ts_ms: int) -> list[Signal]:
        return self.scene.finish()

    def stats(self) -> dict[str, Any]:
        return {
            "moved": self.scene.active,
            "learning": self.learning,
            "match": round(self.match, 3),
            "events": self.events,
        }

    # internals --------------------------------------------------------------------------------

    def _details(self, small: np.ndarray, frame_width: int) -> dict[str, Any]:
        attributes: dict[str, Any] = {"match": round(self.match, 3)}
        shift = self._shift(small, frame_width)
        if shift is not None:
            attributes["shift_px"] = shift
        return attributes

    def _learn(self, small: np.ndarray, edges: np.ndarray, ts: int) -> None:
        if self.scene.learn_from is None:  # a learning period starts: from scratch
            self._frequency = np.zeros(edges.shape, np.float32)
            self._mean_gray = np.zeros(edges.shape, np.float32)
            self._learned_frames, self._last_ts = 0, None
        assert self._frequency is not None and self._mean_gray is not None
        self._learned_frames += 1
        weight = 1.0 / self._learned_frames  # running mean of the learning frames
        cv2.accumulateWeighted(edges.astype(np.float32), self._frequency, weight)
        cv2.accumulateWeighted(small.astype(np.float32), self._mean_gray, weight)
        if self.scene.learned_by(ts, self._learned_frames):
            self._build_reference()

    def _adapt(self, small: np.ndarray, edges: np.ndarray, ts: int) -> None:
        """Follow slow changes of the view, one sample a second at most (cheap enough)."""
        assert self._frequency is not None and self._mean_gray is not None
        if self._last_ts is None:
            self._last_ts = ts
        elapsed_s = (ts - self._last_ts) / 1000
        if elapsed_s < ADAPT_EVERY_S:
            return
        self._last_ts = ts
        alpha = 1.0 - math.exp(-elapsed_s / self.settings.adapt_s)
        cv2.accumulateWeighted(edges.astype(np.float32), self._frequency, alpha)
        cv2.accumulateWeighted(small.astype(np.float32), self._mean_gray, alpha)
        self._build_reference()

    def _build_reference(self) -> None:
        assert self._frequency is not None
        persistent = (self._frequency >= 0.5).astype(np.uint8)
        self._reference_edges = int(persistent.sum())
        self._reference = cv2.dilate(persistent, _KERNEL) > 0
        self._chance = float(self._reference.mean())

    def _shift(self, small: np.ndarray, frame_width: int) -> list[float] | None:
        """The image shift (frame pixels) from the reference view, if it looks like a pan."""
        if self._mean_gray is None:
            return None
        window = cv2.createHanningWindow(small.shape[::-1], cv2.CV_32F)
        (dx, dy), response = cv2.phaseCorrelate(self._mean_gray, small.astype(np.float32), window)
        if response < 0.2:
            return None
        scale = frame_width / small.shape[1]
        return [round(dx * scale, 1), round(dy * scale, 1)]
