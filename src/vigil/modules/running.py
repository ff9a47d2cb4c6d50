"""Running / fast movement: an object moving faster than a threshold for a minimum time.

Speed is smoothed over `window_s` (net displacement ÷ time). Without a calibration it is measured
in box heights per second: the image speed divided by the object's own box height, which does
not depend on how far from the camera the object is (a walking person covers about 0.8 of their
height per second, a running one 2 or more). Movement towards or away from the camera is
foreshortened in the image and reads slower. With a ground calibration the speed can be given
in metres per second instead (`unit: m/s`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from vigil.config import CameraConfig
from vigil.domain.geometry import Homography, points_in_polygon
from vigil.modules.base import ModuleBase, ModuleSettings, Signal, Tracks
from vigil.modules.geometry import Motion, TrackHolds, anchors, require_calibration
from vigil.modules.registry import register

DEFAULT_MIN_SPEED = {"heights/s": 1.6, "m/s": 3.0}


class RunningSettings(ModuleSettings):
    classes: list[str] | None = Field(
        ["person"], min_length=1, description="Object classes watched; all when unset"
    )
    zones: list[str] | None = Field(
        None, min_length=1, description="Only in these zones; everywhere when unset"
    )
    unit: Literal["heights/s", "m/s"] = Field(
        "heights/s", description="Box heights per second, or metres per second (calibration)"
    )
    min_speed: float | None = Field(
        None, gt=0.0, description="Speed above which an object runs; 1.6 heights/s or 3.0 m/s"
    )
    window_s: float = Field(1.0, gt=0.0, description="Speed is smoothed over this window")
    min_duration_s: float = Field(
        1.0, ge=0.0, description="Faster than min_speed this long before the event starts"
    )
    clear_s: float = Field(1.0, ge=0.0, description="Slower this long (or unseen) ends it")
    update_every_s: float = Field(5.0, gt=0.0, description="Interval of updates while running")

    @property
    def threshold(self) -> float:
        return self.min_speed if self.min_speed is not None else DEFAULT_MIN_SPEED[self.unit]


@register
class RunningModule(ModuleBase):
    name: ClassVar[str] = "running"
    description: ClassVar[str] = "Running / fast movement: faster than a threshold for a time"
    settings_model: ClassVar[type[RunningSettings]] = RunningSettings

    def __init__(self, settings: RunningSettings, camera: CameraConfig) -> None:
        self.settings = settings
        homography = Homography.of_camera(camera) if settings.unit == "m/s" else None
        self.motion = Motion(settings.window_s, homography)
        self.polygons = [
            zone.polygon
            for zone in camera.zones
            if settings.zones is not None and zone.name in settings.zones
        ]
        self.running = TrackHolds(
            "running",
            "speed",
            settings.min_duration_s,
            settings.clear_s,
            settings.update_every_s,
            unit=settings.unit,
            min_speed=settings.threshold,
        )

    @classmethod
    def check_camera(cls, settings: RunningSettings, camera: CameraConfig) -> None:
        if settings.unit == "m/s":
            require_calibration(camera, cls.name, "unit m/s")

    def update(self, tracks: Tracks) -> list[Signal]:
        detections = tracks.detections
        self.motion.update(detections, tracks.ts_ms)
        speeds = self.motion.speeds(detections, self.settings.unit)
        watched = np.ones(len(detections), dtype=bool)
        if self.settings.classes is not None:
            watched &= np.isin(tracks.class_names(), self.settings.classes)
        if self.polygons:
            points = anchors(detections)
            watched &= np.any([points_in_polygon(points, p) for p in self.polygons], axis=0)
        over = watched & (np.nan_to_num(speeds, nan=0.0) > self.settings.threshold)
        return self.running.update(tracks, speeds, over)

    def finish(self, ts_ms: int) -> list[Signal]:
        return self.running.finish()

    def stats(self) -> dict[str, Any]:
        return {
            "running_now": sum(1 for s in self.running.tracks.values() if s.hold.active),
            "reported": self.running.started,
        }
