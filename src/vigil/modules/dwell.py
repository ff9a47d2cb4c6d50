"""Time spent by tracks inside one polygon: the shared core of zone presence and loitering."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from vigil.config import CameraConfig, ZoneConfig
from vigil.domain.events import Phase
from vigil.domain.geometry import points_in_polygon
from vigil.modules.base import ModuleBase, Sample, Signal, Tracks, class_allowed, signal_for
from vigil.modules.geometry import anchors


@dataclass(slots=True)
class _Visit:
    entered_ms: int
    last_inside_ms: int
    last_emit_ms: int
    started: bool
    latest: Signal  # the object as last seen inside, reused for update/end signals


class ZoneDwell:
    """Follows each track's visit to a zone and signals once it has lasted `min_dwell_s`.

    A track counts as inside when its bottom-centre (where it stands) is in the polygon or on
    its edge (`domain.geometry.points_in_polygon`, as every other module tests it). A visit
    ends when the track has been outside, or unseen, for `exit_grace_s`: detectors miss frames and
    boxes jitter across edges, and one missed frame must not split a visit in two.
    """

    def __init__(
        self,
        zone: ZoneConfig,
        *,
        event_type: str,
        classes: list[str] | None,
        min_dwell_s: float,
        exit_grace_s: float,
        update_every_s: float,
    ) -> None:
        self.zone = zone
        self.event_type = event_type
        self.classes = _intersect(classes, zone.classes)
        self.min_dwell_ms = int(min_dwell_s * 1000)
        self.exit_grace_ms = int(exit_grace_s * 1000)
        self.update_every_ms = int(update_every_s * 1000)
        self._visits: dict[int, _Visit] = {}
        self.entries = 0

    @property
    def occupancy(self) -> int:
        return sum(1 for visit in self._visits.values() if visit.started)

    def update(self, tracks: Tracks) -> list[Signal]:
        signals: list[Signal] = []
        now = tracks.ts_ms
        detections = tracks.detections
        if len(detections):
            inside = points_in_polygon(anchors(detections), self.zone.polygon)
            names = tracks.class_names()
            for index in np.flatnonzero(inside):
                if not class_allowed(str(names[index]), self.classes):
                    continue
                track_id = int(detections.tracker_id[index])  # type: ignore[index]
                signals.extend(self._seen_inside(tracks, int(index), track_id, now))
        for track_id, visit in list(self._visits.items()):
            if now - visit.last_inside_ms > self.exit_grace_ms:
                del self._visits[track_id]
                if visit.started:
                    signals.append(self._end(visit))
        return signals

    def finish(self, ts_ms: int) -> list[Signal]:
        ended = [self._end(visit) for visit in self._visits.values() if visit.started]
        self._visits.clear()
        return ended

    def _seen_inside(self, tracks: Tracks, index: int, track_id: int, now: int) -> list[Signal]:
        visit = self._visits.get(track_id)
        key = (self.zone.name, track_id)
        if visit is None:
            latest = signal_for(
                tracks, index, key, Phase.START, self.event_type, zone=self.zone.name
            )
            visit = _Visit(now, now, now, False, latest)
            self._visits[track_id] = visit
        else:
            visit.latest = signal_for(
                tracks, index, key, Phase.UPDATE, self.event_type, zone=self.zone.name
            )
        visit.last_inside_ms = now
        dwell_ms = now - visit.entered_ms
        if not visit.started and dwell_ms >= self.min_dwell_ms:
            visit.started = True
            visit.last_emit_ms = now
            self.entries += 1
            start = dataclasses.replace(visit.latest, phase=Phase.START)
            start.dwell_s = dwell_ms / 1000
            return [start]
        if visit.started and now - visit.last_emit_ms >= self.update_every_ms:
            visit.last_emit_ms = now
            update = dataclasses.replace(visit.latest, phase=Phase.UPDATE)
            update.dwell_s = dwell_ms / 1000
            return [update]
        return []

    def _end(self, visit: _Visit) -> Signal:
        end = dataclasses.replace(visit.latest, phase=Phase.END)
        end.dwell_s = (visit.last_inside_ms - visit.entered_ms) / 1000
        return end


def _intersect(first: list[str] | None, second: list[str] | None) -> list[str] | None:
    if first is None:
        return second
    if second is None:
        return first
    return [name for name in first if name in second]


class DwellZonesModule(ModuleBase):
    """Shared body of modules that are a set of `ZoneDwell`s, one per watched zone.

    Each frame it samples, per zone, how many objects are in (`sample_metric`)."""

    zones: list[ZoneDwell]
    sample_metric: ClassVar[str]

    def update(self, tracks: Tracks) -> list[Signal]:
        return [signal for zone in self.zones for signal in zone.update(tracks)]

    def finish(self, ts_ms: int) -> list[Signal]:
        return [signal for zone in self.zones for signal in zone.finish(ts_ms)]

    def measure(self, tracks: Tracks) -> list[Sample]:
        return [Sample(self.sample_metric, zone.occupancy, zone.zone.name) for zone in self.zones]


def watched_zones(camera: CameraConfig, names: list[str] | None, **options: Any) -> list[ZoneDwell]:
    return [
        ZoneDwell(zone, **options) for zone in camera.zones if names is None or zone.name in names
    ]
