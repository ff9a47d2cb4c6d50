"""Occupancy: too many objects in a zone for too long (crowd-crush prevention).

A zone is crowded on a frame when the objects standing in it reach `min_count`, or their
density reaches `min_density` per m² (zone area from the camera's ground calibration). The event
is about the scene, not an object: it starts once the zone has stayed crowded for
`min_duration_s` and ends once it has been below the thresholds for `clear_s`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from vigil.config import CameraConfig, ZoneConfig
from vigil.domain.events import Phase
from vigil.domain.geometry import Homography, points_in_polygon
from vigil.modules.base import ModuleBase, ModuleSettings, Sample, Signal, Tracks
from vigil.modules.debounce import Debounce
from vigil.modules.geometry import anchors, or_default, require_calibration
from vigil.modules.registry import register


class OccupancySettings(ModuleSettings):
    zones: list[str] | None = Field(
        None, min_length=1, description="Zone names to watch; all zones when unset"
    )
    classes: list[str] | None = Field(
        ["person"], min_length=1, description="Object classes to count; all when unset"
    )
    min_count: int | None = Field(
        10, ge=1, description="Objects in the zone at or above which it is crowded; null: off"
    )
    min_density: float | None = Field(
        None,
        gt=0.0,
        description="Objects per m² at or above which the zone is crowded (needs a calibration)",
    )
    min_duration_s: float = Field(
        5.0, ge=0.0, description="Crowded at least this long before the event starts"
    )
    clear_s: float = Field(5.0, ge=0.0, description="Below the thresholds this long ends the event")
    update_every_s: float = Field(10.0, gt=0.0, description="Interval of updates while it lasts")

    @model_validator(mode="after")
    def _some_threshold(self) -> OccupancySettings:
        if self.min_count is None and self.min_density is None:
            raise ValueError("set min_count, min_density or both")
        return self


class _Zone:
    def __init__(
        self,
        zone: ZoneConfig,
        classes: list[str] | None,
        settings: OccupancySettings,
        homography: Homography | None,
    ) -> None:
        self.zone = zone
        self.classes = classes
        self.area_m2 = homography.area_m2(zone.polygon) if homography is not None else None
        self.hold = Debounce(settings.min_duration_s, settings.clear_s)
        self.count = 0
        self.peak = 0
        self.last_emit_ms = 0

    @property
    def density(self) -> float | None:
        return None if not self.area_m2 else self.count / self.area_m2

    def signal(self, phase: Phase, since_ms: int, last_ms: int) -> Signal:
        attributes: dict[str, Any] = {
            "count": self.count,
            # What was counted (None: every class), so "more than 10 people" finds this event.
            "classes": self.classes,
            "peak": self.peak,
            "since_ms": since_ms,
            "duration_s": (last_ms - since_ms) / 1000,
        }
        if self.area_m2:
            attributes["area_m2"] = round(self.area_m2, 2)
            attributes["density"] = round(self.count / self.area_m2, 3)
            attributes["peak_density"] = round(self.peak / self.area_m2, 3)
        key = (self.zone.name, since_ms)
        return Signal(key, phase, "occupancy.high", zone=self.zone.name, attributes=attributes)


@register
class OccupancyModule(ModuleBase):
    name: ClassVar[str] = "occupancy"
    description: ClassVar[str] = (
        "Occupancy / crowd density: objects in a zone over a count or density for a duration"
    )
    settings_model: ClassVar[type[OccupancySettings]] = OccupancySettings

    def __init__(self, settings: OccupancySettings, camera: CameraConfig) -> None:
        self.settings = settings
        homography = Homography.of_camera(camera)
        self.zones = [
            _Zone(zone, _intersect(settings.classes, zone.classes), settings, homography)
            for zone in camera.zones
            if settings.zones is None or zone.name in settings.zones
        ]

    @classmethod
    def check_camera(cls, settings: OccupancySettings, camera: CameraConfig) -> None:
        if settings.min_density is None:
            return
        require_calibration(camera, cls.name, "min_density")
        homography = Homography.of_camera(camera)
        assert homography is not None
        for zone in camera.zones:
            if (settings.zones is None or zone.name in settings.zones) and (
                homography.area_m2(zone.polygon) is None
            ):
                raise ValueError(
                    f"modules.occupancy.min_density: zone {zone.name!r} reaches above the "
                    "horizon of the ground calibration, so it has no area in m²"
                )

    def update(self, tracks: Tracks) -> list[Signal]:
        now = tracks.ts_ms
        points = anchors(tracks.detections)
        names = tracks.class_names()
        signals: list[Signal] = []
        for zone in self.zones:
            wanted = (
                np.ones(len(points), bool) if zone.classes is None else np.isin(names, zone.classes)
            )
            zone.count = int(np.count_nonzero(points_in_polygon(points[wanted], zone.zone.polygon)))
            signals.extend(self._step(zone, now))
        return signals

    def _step(self, zone: _Zone, now: int) -> list[Signal]:
        settings = self.settings
        density = zone.density
        crowded = (settings.min_count is not None and zone.count >= settings.min_count) or (
            settings.min_density is not None
            and density is not None
            and density >= settings.min_density
        )
        hold = zone.hold
        if hold.idle:
            zone.peak = zone.count if crowded else 0
        else:
            zone.peak = max(zone.peak, zone.count)
        phase = hold.step(now, crowded)
        if phase is Phase.START:
            zone.last_emit_ms = now
            return [zone.signal(Phase.START, now if hold.since_ms is None else hold.since_ms, now)]
        if phase is Phase.END and hold.ended is not None:
            return [zone.signal(Phase.END, *hold.ended)]
        if (
            hold.active
            and hold.since_ms is not None
            and (now - zone.last_emit_ms >= settings.update_every_s * 1000)
        ):
            zone.last_emit_ms = now
            return [zone.signal(Phase.UPDATE, hold.since_ms, now)]
        return []

    def finish(self, ts_ms: int) -> list[Signal]:
        ended = [
            zone.signal(Phase.END, zone.hold.since_ms, or_default(zone.hold.last_true_ms, ts_ms))
            for zone in self.zones
            if zone.hold.active and zone.hold.since_ms is not None
        ]
        for zone in self.zones:
            zone.hold = Debounce(self.settings.min_duration_s, self.settings.clear_s)
        return ended

    def measure(self, tracks: Tracks) -> list[Sample]:
        samples = [Sample("occupancy", zone.count, zone.zone.name) for zone in self.zones]
        samples += [
            Sample("density", zone.density, zone.zone.name)
            for zone in self.zones
            if zone.density is not None
        ]
        return samples

    def stats(self) -> dict[str, Any]:
        return {
            zone.zone.name: {"count": zone.count, "crowded": zone.hold.active}
            for zone in self.zones
        }


def _intersect(first: list[str] | None, second: list[str] | None) -> list[str] | None:
    if first is None or second is None:
        return first if second is None else second
    return [name for name in first if name in second]
