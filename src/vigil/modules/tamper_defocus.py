"""Tampering: defocus or blur (a turned focus ring, a smeared or fogged lens).

Sharpness is the variance of the Laplacian of the 160-px gray copy divided by the variance of the
image itself: a blur removes fine detail much faster than overall contrast, while dimming or
brightening the scene changes both alike, so dusk does not look like defocus. The module learns
the camera's normal sharpness (the median over its first `learn_s`), follows slow changes of it
(`adapt_s`), and reports `tamper.defocus` when sharpness stays below `max_ratio` of that baseline
for `duration_s`. Images without structure (a covered lens) are not judged: that is
`tamper_covered`'s fault.
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
    RelearnSeconds,
    SceneBaseline,
)
from vigil.vision.pixels import small_gray

KEY = ("defocus",)
TYPE = "tamper.defocus"
MIN_CONTRAST = 4.0  # gray-level standard deviation below which an image is not judged


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian over the variance of the image (contrast-independent)."""
    image = gray.astype(np.float32)
    laplacian = cv2.Laplacian(image, cv2.CV_32F)
    return float(laplacian.var()) / (float(image.var()) + 1.0)


class DefocusSettings(BaselineSettings):
    max_ratio: float = Field(
        0.5, gt=0.0, lt=1.0, description="Sharpness below this share of the learned baseline "
        "is defocus"
    )
    # A turned focus ring is rarely undone soon: an hour before blur becomes the new normal.
    adapt_s: AdaptSeconds = 3600.0
    relearn_after_s: RelearnSeconds = 3600.0


@register
class TamperDefocusModule(ModuleBase):
    name: ClassVar[str] = "tamper_defocus"
    description: ClassVar[str] = (
        "Tampering: defocus or blur (sharpness far below the camera's learned baseline)"
    )
    settings_model: ClassVar[type[DefocusSettings]] = DefocusSettings

    def __init__(self, settings: DefocusSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.scene = SceneBaseline(KEY, TYPE, settings)
        self._baseline = 0.0  # the learned sharpness, once `scene.learned`
        self.sharpness = 0.0
        self.ratio = 1.0
        self._learning: list[float] = []
        self._last_ts: int | None = None

    @property
    def events(self) -> int:
        return self.scene.events

    @property
    def baseline(self) -> float | None:
        """The camera's normal sharpness; None while it is being learned."""
        return self._baseline if self.scene.learned else None

    def update(self, tracks: Tracks) -> list[Signal]:
        if tracks.image is None:
            return []
        ts = tracks.ts_ms
        small = small_gray(tracks.image)
        elapsed_s = max(0, ts - (self._last_ts if self._last_ts is not None else ts)) / 1000
        self._last_ts = ts
        if float(small.std()) < MIN_CONTRAST:
            return []  # no structure to judge (covered, black)
        value = self.sharpness = sharpness(small)
        if not self.scene.learned:
            self._learning.append(value)
            if self.scene.learned_by(ts, len(self._learning)):
                self._baseline = float(np.median(self._learning))
                self._learning = []
            return []
        self.ratio = value / self._baseline if self._baseline > 0 else 1.0
        blurred = self.ratio < self.settings.max_ratio
        if not blurred and not self.scene.active:
            alpha = 1.0 - math.exp(-elapsed_s / self.settings.adapt_s)
            self._baseline += alpha * (value - self._baseline)
        return self.scene.judge(ts, blurred, lambda: {
            "sharpness_ratio": round(self.ratio, 3),
            "sharpness": round(value, 4),
            "baseline": round(self._baseline, 4),
        })

    def relearn(self) -> None:
        """Forget the baseline and learn it again from the coming frames."""
        self.scene.relearn()
        self._learning = []

    def finish(self, ts_ms: int) -> list[Signal]:
        return self.scene.finish()

    def stats(self) -> dict[str, Any]:
        return {
            "defocus": self.scene.active,
            "learning": not self.scene.learned,
            "sharpness": round(self.sharpness, 4),
            "baseline": round(self._baseline, 4) if self.scene.learned else None,
            "ratio": round(self.ratio, 3),
            "events": self.events,
        }
