"""Wrong-way movement: an object moving inside a lane against the lane's allowed direction.

Each object's path inside a lane is cut into segments of at least `min_distance` (pixels, or
metres for a lane given in ground coordinates), so a parked or waiting object's jitter never
makes a segment. A segment more than `tolerance_deg` away from the allowed direction is
wrong-way: the event starts there and ends when the object leaves the lane (outside or unseen
for `exit_grace_s`) or makes a segment in an allowed direction again (it turned round).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from vigil.config import CameraConfig, ZoneConfig
from vigil.domain.events import Phase
from vigil.domain.geometry import Homography, points_in_polygon, unit_vector
from vigil.modules.base import ModuleBase, ModuleSettings, Signal, Tracks, signal_for
from vigil.modules.geometry import anchors, require_calibration
from vigil.modules.registry import register


class Lane(ModuleSettings):
    zone: str = Field(description="Name of the camera zone that is the lane")
    direction: tuple[float, float] | None = Field(
        None, description="Allowed direction as a vector [dx, dy] (image: x right, y down)"
    )
    angle_deg: float | None = Field(
        None,
        description="Allowed direction as an angle, counter-clockwise: image 0 = right, "
        "90 = up the screen; ground 0 = +x, 90 = +y",
    )
    coordinates: Literal["image", "ground"] = Field(
        "image", description="Whether the direction is in the image or on the ground map"
    )

    @model_validator(mode="after")
    def _one_direction(self) -> Lane:
        if (self.direction is None) == (self.angle_deg is None):
            raise ValueError("give the allowed direction as either `direction` or `angle_deg`")
        if self.direction is not None and math.hypot(*self.direction) == 0:
            raise ValueError("direction must not be the zero vector")
        return self

    def allowed(self) -> np.ndarray:
        """Unit vector of the allowed direction in the lane's coordinates."""
        if self.direction is not None:
            return unit_vector(*self.direction)
        radians = math.radians(self.angle_deg or 0.0)
        # On screen y grows downwards, so "up the screen" (90°) is -y in image coordinates.
        sign = -1.0 if self.coordinates == "image" else 1.0
        return unit_vector(math.cos(radians), sign * math.sin(radians))


class WrongWaySettings(ModuleSettings):
    lanes: list[Lane] = Field(min_length=1, description="Lanes, each a zone with its direction")
    classes: list[str] | None = Field(
        None, min_length=1, description="Object classes watched; all when unset"
    )
    tolerance_deg: float = Field(
        100.0,
        gt=0.0,
        lt=180.0,
        description="Movement more than this many degrees off the allowed direction is wrong-way",
    )
    min_distance_px: float = Field(
        40.0, gt=0.0, description="Length of a judged path segment in image lanes (pixels)"
    )
    min_distance_m: float = Field(
        3.0, gt=0.0, description="Length of a judged path segment in ground lanes (metres)"
    )
    exit_grace_s: float = Field(2.0, ge=0.0, description="Outside/unseen this long: left the lane")

    @model_validator(mode="after")
    def _unique_lanes(self) -> WrongWaySettings:
        names = [lane.zone for lane in self.lanes]
        if len(names) != len(set(names)):
            raise ValueError(f"each zone may be one lane only, got {names}")
        return self

    @property
    def zones(self) -> list[str]:
        """The zones the lanes name: the registry checks that the camera defines them."""
        return [lane.zone for lane in self.lanes]


@dataclass(slots=True)
class _Path:
    origin: np.ndarray  # start of the current segment
    last_inside_ms: int
    latest: Signal
    started_ms: int | None = None


class _Lane:
    def __init__(
        self, lane: Lane, zone: ZoneConfig, settings: WrongWaySettings, ground: Homography | None
    ) -> None:
        self.lane = lane
        self.zone = zone
        self.allowed = lane.allowed()
        self.ground = ground if lane.coordinates == "ground" else None
        self.min_distance = (
            settings.min_distance_m if lane.coordinates == "ground" else settings.min_distance_px
        )
        self.cos_tolerance = math.cos(math.radians(settings.tolerance_deg))
        self.classes = settings.classes
        self.grace_ms = int(settings.exit_grace_s * 1000)
        self.paths: dict[int, _Path] = {}

    def update(self, tracks: Tracks, points: np.ndarray, names: np.ndarray) -> list[Signal]:
        now = tracks.ts_ms
        inside = points_in_polygon(points, self.zone.polygon)
        for classes in (self.classes, self.zone.classes):
            if classes is not None:
                inside &= np.isin(names, classes)
        indices = np.flatnonzero(inside)
        coords = points[indices] if self.ground is None else self.ground.to_ground(points[indices])
        ids = tracks.detections.tracker_id
        signals: list[Signal] = []
        for index, position in zip(indices.tolist(), coords, strict=True):
            if not np.all(np.isfinite(position)) or ids is None:
                continue
            track_id = int(ids[index])
            key = (self.zone.name, track_id)
            latest = signal_for(tracks, index, key, Phase.UPDATE, "wrong_way", zone=self.zone.name)
            path = self.paths.get(track_id)
            if path is None:
                self.paths[track_id] = _Path(position, now, latest)
                continue
            path.last_inside_ms, path.latest = now, latest
            step = position - path.origin
            distance = float(np.linalg.norm(step))
            if distance < self.min_distance:
                continue
            path.origin = position
            cosine = float(np.dot(step, self.allowed)) / distance
            signals.extend(self._judge(path, cosine, distance, now))
        for track_id, path in list(self.paths.items()):
            if now - path.last_inside_ms > self.grace_ms:
                del self.paths[track_id]
                signals.extend(self.end(path, "left"))
        return signals

    def _judge(self, path: _Path, cosine: float, distance: float, now: int) -> list[Signal]:
        against = cosine < self.cos_tolerance
        if against and path.started_ms is None:
            path.started_ms = now
            start = self._signal(path, Phase.START)
            start.attributes = {
                "angle_deg": round(math.degrees(math.acos(max(-1.0, min(1.0, cosine)))), 1),
                "segment": round(distance, 2),
                "unit": "m" if self.ground is not None else "px",
            }
            return [start]
        if not against and path.started_ms is not None:
            return self.end(path, "turned")
        return []

    def _signal(self, path: _Path, phase: Phase) -> Signal:
        return dataclasses.replace(
            path.latest, phase=phase, key=(*path.latest.key, path.started_ms)
        )

    def end(self, path: _Path, reason: str) -> list[Signal]:
        if path.started_ms is None:
            return []
        end = self._signal(path, Phase.END)
        end.attributes = {"reason": reason}
        path.started_ms = None
        return [end]


@register
class WrongWayModule(ModuleBase):
    name: ClassVar[str] = "wrong_way"
    description: ClassVar[str] = "Wrong-way movement against a lane's allowed direction"
    settings_model: ClassVar[type[WrongWaySettings]] = WrongWaySettings

    def __init__(self, settings: WrongWaySettings, camera: CameraConfig) -> None:
        zones = {zone.name: zone for zone in camera.zones}
        ground = Homography.of_camera(camera)
        self.lanes = [_Lane(lane, zones[lane.zone], settings, ground) for lane in settings.lanes]
        self.reported = 0

    @classmethod
    def check_camera(cls, settings: WrongWaySettings, camera: CameraConfig) -> None:
        for lane in settings.lanes:
            if lane.coordinates == "ground":
                require_calibration(camera, cls.name, f"lane {lane.zone!r} in ground coordinates")

    def update(self, tracks: Tracks) -> list[Signal]:
        points, names = anchors(tracks.detections), tracks.class_names()
        signals = [s for lane in self.lanes for s in lane.update(tracks, points, names)]
        self.reported += sum(1 for s in signals if s.phase is Phase.START)
        return signals

    def finish(self, ts_ms: int) -> list[Signal]:
        return [
            signal
            for lane in self.lanes
            for path in lane.paths.values()
            for signal in lane.end(path, "stopped")
        ]

    def stats(self) -> dict[str, Any]:
        return {"reported": self.reported}
