"""Abandoned object: a bag that stays put with nobody near it.

An object of `classes` is abandoned once it has been stationary (within `max_movement` of where
it came to rest) and unattended (no object of `attendant_classes` within `attended_distance`)
for `duration_s`, both at once. The event ends when the object is moved, is gone (unseen for
`grace_s`: taken away), or someone is near it again (`attended`); an object attended again and
left again is reported anew after another `duration_s`. Objects are followed by where they are,
so a detector dropout or a new tracker id does not restart the clock.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from vigil.config import CameraConfig
from vigil.domain.events import Phase
from vigil.modules.base import ModuleBase, Signal, Tracks, signal_for
from vigil.modules.geometry import Stationary, anchors, require_calibration
from vigil.modules.registry import register
from vigil.modules.stationary import StationarySettings, StationaryWatch


class AbandonedSettings(StationarySettings):
    classes: list[str] = Field(
        ["backpack", "handbag", "suitcase"], min_length=1, description="Object classes watched"
    )
    attendant_classes: list[str] = Field(
        ["person"], min_length=1, description="Classes whose presence near the object attends it"
    )
    attended_distance_px: float = Field(
        150.0, gt=0.0, description="An attendant this close (pixels) attends the object"
    )
    attended_distance_m: float | None = Field(
        None, gt=0.0, description="The same in metres on the ground (needs a calibration)"
    )


@dataclass(slots=True)
class _Watch:
    unattended_since: int | None
    latest: Signal | None = None  # the object as last seen, reused for the end signal
    started_ms: int | None = None  # start of the open event, None when none is open


@register
class AbandonedModule(ModuleBase):
    name: ClassVar[str] = "abandoned"
    description: ClassVar[str] = (
        "Abandoned object: a bag or suitcase stationary with nobody near it for a duration"
    )
    settings_model: ClassVar[type[AbandonedSettings]] = AbandonedSettings

    def __init__(self, settings: AbandonedSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.watch = StationaryWatch(settings, settings.classes, camera)
        self.objects = self.watch.objects
        self.ground = self.watch.homography if settings.attended_distance_m is not None else None
        self.distance = settings.attended_distance_m or settings.attended_distance_px
        self.watches: dict[int, _Watch] = {}
        self.reported = 0

    @classmethod
    def check_camera(cls, settings: AbandonedSettings, camera: CameraConfig) -> None:
        StationaryWatch.check_camera(settings, camera, cls.name)
        if settings.attended_distance_m is not None:
            require_calibration(camera, cls.name, "attended_distance_m")

    def update(self, tracks: Tracks) -> list[Signal]:
        now = tracks.ts_ms
        names = tracks.class_names()
        moved, gone = self.objects.update(tracks.detections, names, now)
        signals = [
            end
            for reason, items in (("moved", moved), ("removed", gone))
            for item in items
            if (end := self._close(item, reason, now)) is not None
        ]
        items = list(self.objects.objects.values())
        if not items:
            return signals
        attended = self._attended(items, tracks, names)
        for item, near in zip(items, attended.tolist(), strict=True):
            signals.extend(self._judge(item, near, tracks, now))
        return signals

    def _attended(self, items: list[Stationary], tracks: Tracks, names: np.ndarray) -> np.ndarray:
        """For each object: is an attendant within the distance? (objects × attendants)"""
        people = anchors(tracks.detections)[np.isin(names, self.settings.attendant_classes)]
        things = np.array([item.image_anchor for item in items])
        if self.ground is not None:
            people, things = self.ground.to_ground(people), self.ground.to_ground(things)
        if not len(people):
            return np.zeros(len(items), dtype=bool)
        distance = np.linalg.norm(things[:, None, :] - people[None, :, :], axis=2)
        return np.asarray(np.any(distance <= self.distance, axis=1))

    def _judge(self, item: Stationary, near: bool, tracks: Tracks, now: int) -> list[Signal]:
        watch = self.watches.get(item.serial)
        if watch is None:
            watch = self.watches[item.serial] = _Watch(None if near else now)
        key = (item.serial, watch.started_ms)
        if item.index is not None:
            watch.latest = signal_for(tracks, item.index, key, Phase.UPDATE, "abandoned.object")
        if near:
            watch.unattended_since = None
            end = self._end(watch, "attended", now)
            return [end] if end is not None else []
        if watch.unattended_since is None:
            watch.unattended_since = now
        alone_since = max(item.since_ms, watch.unattended_since)
        due = now - alone_since >= self.settings.duration_s * 1000
        in_zone = bool(self.watch.zones_of(item))
        if watch.started_ms is not None or not due or item.index is None or not in_zone:
            return []
        watch.started_ms = now
        self.reported += 1
        assert watch.latest is not None
        start = dataclasses.replace(watch.latest, phase=Phase.START, key=(item.serial, now))
        start.attributes = {
            "stationary_s": (now - item.since_ms) / 1000,
            "unattended_s": (now - alone_since) / 1000,
            "position": [round(float(v), 1) for v in item.image_anchor],
        }
        return [start]

    def _close(self, item: Stationary, reason: str, now: int) -> Signal | None:
        watch = self.watches.pop(item.serial, None)
        return self._end(watch, reason, now) if watch is not None else None

    def _end(self, watch: _Watch, reason: str, now: int) -> Signal | None:
        if watch.started_ms is None or watch.latest is None:
            return None
        end = dataclasses.replace(
            watch.latest, phase=Phase.END, key=(watch.latest.key[0], watch.started_ms)
        )
        end.attributes = {"reason": reason, "abandoned_s": (now - watch.started_ms) / 1000}
        watch.started_ms = None
        return end

    def finish(self, ts_ms: int) -> list[Signal]:
        ended = [self._end(watch, "stopped", ts_ms) for watch in self.watches.values()]
        self.watches.clear()
        return [signal for signal in ended if signal is not None]

    def stats(self) -> dict[str, Any]:
        open_ = sum(1 for watch in self.watches.values() if watch.started_ms is not None)
        return {"abandoned_now": open_, "reported": self.reported}
