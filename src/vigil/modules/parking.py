"""Parking occupancy: slot polygons, each occupied or free, debounced.

A slot is occupied on a frame when a vehicle's reference point (`anchor`: the box centre by
default, which for the usual elevated view lies inside the painted bay) is inside its polygon.
It becomes occupied after `occupy_s` of that (a car manoeuvring through is not parking) and free
after `vacate_s` without it (a missed detection or a passing bus does not free it). Each stay is
a `parking.occupied` event, from arrival to departure; samples give the series of occupied and
free slots.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

import numpy as np
import supervision as sv
from pydantic import Field, field_validator, model_validator

from vigil.config import CameraConfig, Point
from vigil.domain.events import Phase
from vigil.domain.geometry import points_in_polygon
from vigil.modules.base import ModuleBase, ModuleSettings, Sample, Signal, Tracks, signal_for
from vigil.modules.debounce import Debounce
from vigil.modules.geometry import or_default
from vigil.modules.registry import register


class Slot(ModuleSettings):
    name: str = Field(min_length=1, description="Slot name, unique on the camera")
    polygon: list[Point] = Field(description="Vertices in pixels of the camera image")

    @field_validator("polygon")
    @classmethod
    def _enough_vertices(cls, value: list[Point]) -> list[Point]:
        if len(value) < 3:
            raise ValueError(f"a slot polygon needs at least 3 points, got {len(value)}")
        return value


class ParkingSettings(ModuleSettings):
    slots: list[Slot] = Field(min_length=1, description="Parking slots, each a named polygon")
    classes: list[str] = Field(
        ["car", "truck", "bus", "motorcycle"], min_length=1, description="Vehicle classes"
    )
    anchor: Literal["center", "bottom_center"] = Field(
        "center", description="Point of a vehicle's box that must be inside a slot"
    )
    occupy_s: float = Field(10.0, ge=0.0, description="In the slot this long: occupied")
    vacate_s: float = Field(10.0, ge=0.0, description="Out of the slot this long: free")

    @model_validator(mode="after")
    def _unique_names(self) -> ParkingSettings:
        names = [slot.name for slot in self.slots]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"slot names must be unique; repeated: {', '.join(repeated)}")
        return self


class _Slot:
    def __init__(self, slot: Slot, settings: ParkingSettings) -> None:
        self.slot = slot
        self.centroid = np.mean(np.asarray(slot.polygon, dtype=np.float64), axis=0)
        self.hold = Debounce(settings.occupy_s, settings.vacate_s)
        self.latest: Signal | None = None
        self.key: tuple[Any, ...] = ()


@register
class ParkingModule(ModuleBase):
    name: ClassVar[str] = "parking"
    description: ClassVar[str] = "Parking occupancy: slot polygons, occupied or free, debounced"
    settings_model: ClassVar[type[ParkingSettings]] = ParkingSettings

    def __init__(self, settings: ParkingSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.slots = [_Slot(slot, settings) for slot in settings.slots]
        self.position = (
            sv.Position.CENTER if settings.anchor == "center" else sv.Position.BOTTOM_CENTER
        )

    def update(self, tracks: Tracks) -> list[Signal]:
        now = tracks.ts_ms
        detections = tracks.detections
        vehicles = np.flatnonzero(np.isin(tracks.class_names(), self.settings.classes))
        points = (
            np.asarray(detections.get_anchors_coordinates(self.position), np.float64)[vehicles]
            if len(vehicles)
            else np.zeros((0, 2))
        )
        signals: list[Signal] = []
        for slot in self.slots:
            inside = np.flatnonzero(points_in_polygon(points, slot.slot.polygon))
            if len(inside):
                # Boxes of neighbouring cars overlap; the one nearest the bay's centre is in it.
                nearest = inside[np.argmin(np.linalg.norm(points[inside] - slot.centroid, axis=1))]
                key = (slot.slot.name, or_default(slot.hold.since_ms, now))
                slot.latest = signal_for(
                    tracks,
                    int(vehicles[nearest]),
                    key,
                    Phase.UPDATE,
                    "parking.occupied",
                    zone=slot.slot.name,
                )
            phase = slot.hold.step(now, bool(len(inside)))
            if phase is Phase.START and slot.latest is not None:
                slot.key = slot.latest.key
                signals.append(self._signal(slot, Phase.START, now))
            elif phase is Phase.END and slot.latest is not None:
                signals.append(self._signal(slot, Phase.END, now))
        return signals

    def _signal(self, slot: _Slot, phase: Phase, now: int) -> Signal:
        assert slot.latest is not None
        signal = dataclasses.replace(slot.latest, phase=phase, key=slot.key)
        since = int(slot.key[1])
        if phase is Phase.END and slot.hold.ended is not None:
            since, now = slot.hold.ended
        signal.dwell_s = (now - since) / 1000
        signal.attributes = {"slot": slot.slot.name, "arrived_ms": since}
        if phase is Phase.END:
            signal.attributes["left_ms"] = now
        return signal

    def finish(self, ts_ms: int) -> list[Signal]:
        ended = [
            self._signal(slot, Phase.END, or_default(slot.hold.last_true_ms, ts_ms))
            for slot in self.slots
            if slot.hold.active and slot.latest is not None
        ]
        for slot in self.slots:
            slot.hold = Debounce(self.settings.occupy_s, self.settings.vacate_s)
        return ended

    def occupied(self) -> dict[str, bool]:
        return {slot.slot.name: slot.hold.active for slot in self.slots}

    def measure(self, tracks: Tracks) -> list[Sample]:
        occupied = self.occupied()
        taken = sum(occupied.values())
        samples = [
            Sample("occupied_slots", taken),
            Sample("free_slots", len(occupied) - taken),
        ]
        samples += [Sample("occupied", int(value), name) for name, value in occupied.items()]
        return samples

    def stats(self) -> dict[str, Any]:
        occupied = self.occupied()
        return {
            "occupied": sum(occupied.values()),
            "free": len(occupied) - sum(occupied.values()),
            "slots": occupied,
        }
