"""Stopped vehicle / illegal parking: a vehicle stationary in a zone for a duration.

A vehicle is stationary while it stays within `max_movement` of where it came to rest. The
event starts once it has been stationary for `duration_s` with its ground point in a watched
zone, is updated every `update_every_s`, and ends when the vehicle drives off (moves) or is gone
(unseen for `grace_s`). Vehicles are followed by where they stand, so a detector dropout or a
new tracker id does not restart the clock.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import Field

from vigil.config import CameraConfig, ZoneConfig
from vigil.domain.events import Phase
from vigil.domain.geometry import Homography, points_in_polygon
from vigil.modules.base import ModuleBase, ModuleSettings, Signal, Tracks, signal_for
from vigil.modules.geometry import Stationary, StationaryObjects, require_calibration
from vigil.modules.registry import register


class StoppedVehicleSettings(ModuleSettings):
    zones: list[str] | None = Field(
        None, min_length=1, description="No-stopping zones; anywhere in the image when unset"
    )
    classes: list[str] = Field(
        ["car", "truck", "bus", "motorcycle"], min_length=1, description="Vehicle classes"
    )
    duration_s: float = Field(
        60.0, gt=0.0, description="Stationary this long before the event starts"
    )
    max_movement_px: float = Field(
        15.0, gt=0.0, description="A vehicle that moves farther (pixels) is no longer stopped"
    )
    max_movement_m: float | None = Field(
        None, gt=0.0, description="The same in metres on the ground (needs a calibration)"
    )
    grace_s: float = Field(
        5.0, ge=0.0, description="A vehicle unseen this long (occluded, missed) is still there"
    )
    update_every_s: float = Field(30.0, gt=0.0, description="Interval of updates while stopped")


@dataclass(slots=True)
class _Stop:
    zones: list[str | None]
    latest: Signal | None = None
    started_ms: int | None = None
    last_emit_ms: int = 0
    keys: list[tuple[Any, ...]] = field(default_factory=list)


@register
class StoppedVehicleModule(ModuleBase):
    name: ClassVar[str] = "stopped_vehicle"
    description: ClassVar[str] = (
        "Stopped vehicle / illegal parking: a vehicle stationary in a zone for a duration"
    )
    settings_model: ClassVar[type[StoppedVehicleSettings]] = StoppedVehicleSettings

    def __init__(self, settings: StoppedVehicleSettings, camera: CameraConfig) -> None:
        self.settings = settings
        homography = Homography.of_camera(camera)
        self.vehicles = StationaryObjects(
            settings.classes,
            settings.max_movement_m or settings.max_movement_px,
            settings.grace_s,
            homography if settings.max_movement_m is not None else None,
        )
        wanted = settings.zones or []
        self.zones: list[ZoneConfig] = [zone for zone in camera.zones if zone.name in wanted]
        self.stops: dict[int, _Stop] = {}

    @classmethod
    def check_camera(cls, settings: StoppedVehicleSettings, camera: CameraConfig) -> None:
        if settings.max_movement_m is not None:
            require_calibration(camera, cls.name, "max_movement_m")

    def update(self, tracks: Tracks) -> list[Signal]:
        now = tracks.ts_ms
        moved, gone = self.vehicles.update(tracks.detections, tracks.class_names(), now)
        signals: list[Signal] = []
        for reason, items in (("moved", moved), ("gone", gone)):
            for item in items:
                stop = self.stops.pop(item.serial, None)
                if stop is not None:
                    signals.extend(self._end(stop, item, reason))
        for item in self.vehicles.objects.values():
            signals.extend(self._judge(item, tracks, now))
        return signals

    def _judge(self, item: Stationary, tracks: Tracks, now: int) -> list[Signal]:
        stop = self.stops.get(item.serial)
        if stop is None:
            stop = self.stops[item.serial] = _Stop(self._zones_of(item))
        if not stop.zones:
            return []
        if item.index is not None:
            stop.latest = signal_for(tracks, item.index, (), Phase.UPDATE, "vehicle.stopped")
        stopped_ms = now - item.since_ms
        if stop.started_ms is None:
            if item.index is None or stopped_ms < self.settings.duration_s * 1000:
                return []
            stop.started_ms = stop.last_emit_ms = now
            stop.keys = [(zone, item.serial) for zone in stop.zones]
            return self._signals(stop, Phase.START, stopped_ms)
        if now - stop.last_emit_ms >= self.settings.update_every_s * 1000:
            stop.last_emit_ms = now
            return self._signals(stop, Phase.UPDATE, stopped_ms)
        return []

    def _zones_of(self, item: Stationary) -> list[str | None]:
        if self.settings.zones is None:
            return [None]
        point = item.image_anchor.reshape(1, 2)
        return [zone.name for zone in self.zones if points_in_polygon(point, zone.polygon)[0]]

    def _signals(self, stop: _Stop, phase: Phase, stopped_ms: int, **extra: Any) -> list[Signal]:
        assert stop.latest is not None
        signals = []
        for key in stop.keys:
            signal = dataclasses.replace(stop.latest, key=key, phase=phase, zone=key[0])
            signal.dwell_s = stopped_ms / 1000
            signal.attributes = {"stopped_s": stopped_ms / 1000, **extra}
            signals.append(signal)
        return signals

    def _end(self, stop: _Stop, item: Stationary, reason: str) -> list[Signal]:
        if stop.started_ms is None:
            return []
        # Stopped until it was last seen where it stood, not until the end was noticed.
        return self._signals(stop, Phase.END, item.last_seen_ms - item.since_ms, reason=reason)

    def finish(self, ts_ms: int) -> list[Signal]:
        ended = [
            signal
            for serial, stop in self.stops.items()
            if serial in self.vehicles.objects
            for signal in self._end(stop, self.vehicles.objects[serial], "stopped")
        ]
        self.stops.clear()
        return ended

    def stats(self) -> dict[str, Any]:
        stopped = sum(1 for stop in self.stops.values() if stop.started_ms is not None)
        return {"stopped_now": stopped}
