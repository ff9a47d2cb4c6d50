"""Speed estimation from the camera's ground calibration, with speeding events.

Each object's ground point (bottom-centre of its box) is mapped to metres on the ground plane by
the calibration's homography; its speed is the net distance travelled over the last `window_s`
divided by the time (a smoothed speed: frame-to-frame box jitter would otherwise read as
speed). `speeding` starts once an object has been over `limit_kmh` for `min_duration_s` and ends
`clear_s` after it slowed down or was last seen. A step faster than `max_plausible_kmh` (the
tracker swapping ids between two objects) restarts the object's measurement, and readings over
it are discarded.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from vigil.config import CameraConfig
from vigil.domain.geometry import MS_TO_KMH, Homography, points_in_polygon
from vigil.modules.base import ModuleBase, ModuleSettings, Sample, Signal, Tracks
from vigil.modules.geometry import Motion, TrackHolds, anchors, require_calibration
from vigil.modules.registry import register


class SpeedSettings(ModuleSettings):
    classes: list[str] | None = Field(
        None, min_length=1, description="Object classes measured; all when unset"
    )
    zones: list[str] | None = Field(
        None, min_length=1, description="Measure only in these zones; everywhere when unset"
    )
    window_s: float = Field(
        1.0, gt=0.0, description="Speed is the net distance over this window ÷ its duration"
    )
    limit_kmh: float | None = Field(
        50.0, gt=0.0, description="Speed limit for `speeding` events; null: samples only"
    )
    min_duration_s: float = Field(
        1.0, ge=0.0, description="Over the limit this long before `speeding` starts"
    )
    clear_s: float = Field(1.0, ge=0.0, description="Under the limit this long ends it")
    max_plausible_kmh: float = Field(
        250.0, gt=0.0, description="Faster readings are measurement errors and are dropped"
    )
    update_every_s: float = Field(5.0, gt=0.0, description="Interval of updates while speeding")


@register
class SpeedModule(ModuleBase):
    name: ClassVar[str] = "speed"
    description: ClassVar[str] = (
        "Speed from a ground calibration (km/h per object and class), with speeding events"
    )
    settings_model: ClassVar[type[SpeedSettings]] = SpeedSettings

    def __init__(self, settings: SpeedSettings, camera: CameraConfig) -> None:
        homography = Homography.of_camera(camera)
        assert homography is not None, "check_camera requires a calibration"
        self.settings = settings
        self.motion = Motion(settings.window_s, homography, settings.max_plausible_kmh / MS_TO_KMH)
        self.zones = [
            zone
            for zone in camera.zones
            if settings.zones is not None and zone.name in settings.zones
        ]
        self.speeding = TrackHolds(
            "speeding",
            "speed_kmh",
            settings.min_duration_s,
            settings.clear_s,
            settings.update_every_s,
            limit_kmh=settings.limit_kmh,
        )
        self._samples: list[Sample] = []

    @classmethod
    def check_camera(cls, settings: SpeedSettings, camera: CameraConfig) -> None:
        require_calibration(camera, cls.name, "speed estimation")

    def update(self, tracks: Tracks) -> list[Signal]:
        detections = tracks.detections
        self.motion.update(detections, tracks.ts_ms)
        kmh = self.motion.speeds(detections, "m/s") * MS_TO_KMH
        kmh[kmh > self.settings.max_plausible_kmh] = np.nan
        names = tracks.class_names()
        watched = np.ones(len(detections), dtype=bool)
        if self.settings.classes is not None:
            watched &= np.isin(names, self.settings.classes)
        places: list[str | None] = [None] * len(detections)
        if self.zones:
            points = anchors(detections)
            inside_any = np.zeros(len(detections), dtype=bool)
            for zone in self.zones:
                inside = points_in_polygon(points, zone.polygon)
                for index in np.flatnonzero(inside & ~inside_any):
                    places[index] = zone.name
                inside_any |= inside
            watched &= inside_any
        known = watched & np.isfinite(kmh)
        self._samples = [
            Sample("speed_kmh", float(kmh[i]), places[i], str(names[i]))
            for i in np.flatnonzero(known).tolist()
        ]
        limit = self.settings.limit_kmh
        if limit is None:
            return []
        over = known & (np.nan_to_num(kmh, nan=0.0) > limit)
        return self.speeding.update(tracks, kmh, over)

    def finish(self, ts_ms: int) -> list[Signal]:
        return self.speeding.finish()

    def measure(self, tracks: Tracks) -> list[Sample]:
        return self._samples

    def stats(self) -> dict[str, Any]:
        return {"speeding_now": sum(1 for s in self.speeding.tracks.values() if s.hold.active)}
