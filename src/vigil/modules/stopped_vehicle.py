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

from vigil.config import CameraConfig
from vigil.domain.events import Phase
from vigil.modules.base import ModuleBase, Signal, Tracks, signal_for
from vigil.modules.geometry import Stationary
from vigil.modules.registry import register
from vigil.modules.stationary import StationarySettings, StationaryWatch


class StoppedVehicleSettings(StationarySettings):
    classes: list[str] = Field(
        ["car", "truck", "bus", "motorcycle"], min_length=1, description="Vehicle classes"
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
        self.watch = StationaryWatch(settings, settings.classes, camera)
        self.vehicles = self.watch.objects
        self.stops: dict[int, _Stop] = {}

    @classmethod
    def check_camera(cls, settings: StoppedVehicleSettings, camera: CameraConfig) -> None:
        StationaryWatch.check_camera(settings, camera, cls.name)

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
            stop = self.stops[item.serial] = _Stop(self.watch.zones_of(item))
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
