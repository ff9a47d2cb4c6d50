"""Activity heatmap: where objects stand, accumulated over time in a coarse grid.

Every analysed frame adds, to the grid cell under each tracked object's bottom-centre (where it
stands), the time since the previous frame: a cell's value is object-seconds spent there, the same
whatever the analysis frame rate. With `half_life_s`, older activity fades (a value halves every
half-life), so the map shows recent habits; with 0 it accumulates for as long as the camera runs.
`stats()` returns the grid; the API draws it (`GET /api/cameras/{id}/heatmap.png`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from vigil.config import CameraConfig
from vigil.modules.base import ModuleBase, ModuleSettings, Signal, Tracks
from vigil.modules.registry import register

MAX_STEP_S = 2.0  # a gap in the frames longer than this adds no more than this


class HeatmapSettings(ModuleSettings):
    cols: int = Field(32, ge=2, le=256, description="Grid cells across the image")
    rows: int = Field(24, ge=2, le=256, description="Grid cells down the image")
    classes: list[str] | None = Field(
        None, description="Object classes that count; all when unset"
    )
    half_life_s: float = Field(
        3600.0, ge=0.0, description="Activity halves after this many seconds (0 = never fades)"
    )


@register
class HeatmapModule(ModuleBase):
    name: ClassVar[str] = "heatmap"
    description: ClassVar[str] = (
        "Activity heatmap: object-seconds per grid cell of the image, fading with a half-life"
    )
    settings_model: ClassVar[type[HeatmapSettings]] = HeatmapSettings

    def __init__(self, settings: HeatmapSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.grid = np.zeros((settings.rows, settings.cols), dtype=np.float64)
        self.frame_size: tuple[int, int] | None = None  # width, height
        self.classes = settings.classes
        self._default_step_s = 1.0 / camera.analysis_fps
        self._last_ts: int | None = None

    def update(self, tracks: Tracks) -> list[Signal]:
        ts = tracks.ts_ms
        step_s = (
            self._default_step_s if self._last_ts is None else max(0, ts - self._last_ts) / 1000
        )
        self._last_ts = ts
        half_life = self.settings.half_life_s
        if half_life > 0 and step_s > 0:
            self.grid *= 0.5 ** (step_s / half_life)
        height, width = tracks.frame_shape
        self.frame_size = (int(width), int(height))
        detections = tracks.detections
        if not len(detections) or step_s <= 0:
            return []
        keep = np.ones(len(detections), dtype=bool)
        if self.classes is not None:
            keep = np.isin(tracks.class_names(), self.classes)
        boxes = detections.xyxy[keep]
        if not len(boxes):
            return []
        x = (boxes[:, 0] + boxes[:, 2]) / 2 / width
        y = boxes[:, 3] / height
        cols = np.clip((x * self.settings.cols).astype(int), 0, self.settings.cols - 1)
        rows = np.clip((y * self.settings.rows).astype(int), 0, self.settings.rows - 1)
        np.add.at(self.grid, (rows, cols), min(step_s, MAX_STEP_S))
        return []

    def stats(self) -> dict[str, Any]:
        return {
            "cols": self.settings.cols,
            "rows": self.settings.rows,
            "frame_size": list(self.frame_size) if self.frame_size else None,
            "unit": "object-seconds",
            "half_life_s": self.settings.half_life_s,
            "max": round(float(self.grid.max()), 3),
            "total": round(float(self.grid.sum()), 3),
            "grid": np.round(self.grid, 3).tolist(),
        }
