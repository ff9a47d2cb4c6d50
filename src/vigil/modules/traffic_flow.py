"""Traffic flow statistics: counts per class per lane, and their mean speed.

A lane is a line (an object counts when its ground point crosses it, as in the `line` module) or
a zone (an object counts when it enters, as in `zone`). Every counted object adds a
`flow_count` sample of 1, so the statistics' per-minute sum is the flow per minute (and any
longer interval is the sum of its minutes); each lane and class also gets one sample of 0 at the
start of every minute, so a minute without traffic reads 0 rather than missing. With a ground
calibration each counted object adds its speed as a `mean_speed_kmh` sample: the per-minute
mean is the mean speed of the objects counted. The module emits no events (congestion alerts:
`occupancy`, `queue` or `stopped_vehicle` on the same lane).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from vigil.config import CameraConfig, LineConfig
from vigil.domain.events import Phase
from vigil.domain.geometry import MS_TO_KMH, Homography
from vigil.modules.base import ModuleBase, ModuleSettings, Sample, Signal, Tracks, class_allowed
from vigil.modules.dwell import ZoneDwell
from vigil.modules.geometry import LineCounter, Motion
from vigil.modules.registry import register

MINUTE_MS = 60_000


class TrafficFlowSettings(ModuleSettings):
    lines: list[str] | None = Field(
        None, min_length=1, description="Lines that are lanes; all lines when neither is set"
    )
    zones: list[str] | None = Field(
        None, min_length=1, description="Zones that are lanes (counted on entry)"
    )
    classes: list[str] | None = Field(
        ["car", "truck", "bus", "motorcycle", "bicycle"],
        min_length=1,
        description="Object classes counted; all when null",
    )
    by_direction: bool = Field(
        False, description="Count line crossings per direction: lane name 'line/in', 'line/out'"
    )
    min_crossing_frames: int = Field(
        1, ge=1, description="Frames an object must stay on the far side of a line"
    )
    speed_window_s: float = Field(
        1.0, gt=0.0, description="Speeds (with a calibration) are smoothed over this window"
    )


class _LineLane(LineCounter):
    def __init__(self, line: LineConfig, min_frames: int) -> None:
        super().__init__(line.start, line.end, min_frames)
        self.config = line


@register
class TrafficFlowModule(ModuleBase):
    name: ClassVar[str] = "traffic_flow"
    description: ClassVar[str] = (
        "Traffic flow statistics: counts per class per lane per minute, and mean speed"
    )
    settings_model: ClassVar[type[TrafficFlowSettings]] = TrafficFlowSettings

    def __init__(self, settings: TrafficFlowSettings, camera: CameraConfig) -> None:
        self.settings = settings
        all_lines = settings.lines is None and settings.zones is None
        self.lines = [
            _LineLane(line, settings.min_crossing_frames)
            for line in camera.lines
            if all_lines or (settings.lines is not None and line.name in settings.lines)
        ]
        self.zones = [
            ZoneDwell(
                zone,
                event_type="traffic_flow.entry",
                classes=None,  # classes are filtered when counting, like lines
                min_dwell_s=0.0,
                exit_grace_s=1.0,
                update_every_s=1e9,
            )
            for zone in camera.zones
            if settings.zones is not None and zone.name in settings.zones
        ]
        homography = Homography.of_camera(camera)
        self.motion = Motion(settings.speed_window_s, homography) if homography else None
        self.counts: Counter[tuple[str, str]] = Counter()  # (lane, class)
        self._samples: list[Sample] = []
        self._minute: int | None = None

    def lanes(self) -> list[str]:
        names = []
        for lane in self.lines:
            line = lane.config.name
            names += [f"{line}/in", f"{line}/out"] if self.settings.by_direction else [line]
        return names + [zone.zone.name for zone in self.zones]

    def update(self, tracks: Tracks) -> list[Signal]:
        samples: list[Sample] = []
        minute = tracks.ts_ms // MINUTE_MS
        if minute != self._minute and self.settings.classes is not None:
            self._minute = minute
            samples += [
                Sample("flow_count", 0, lane, name)
                for lane in self.lanes()
                for name in self.settings.classes
            ]
        if self.motion is not None:
            self.motion.update(tracks.detections, tracks.ts_ms)
        names = tracks.class_names()
        counted: list[tuple[int, str]] = []
        for line in self.lines:
            for index, direction in line.crossed(tracks):
                if not class_allowed(str(names[index]), line.config.classes):
                    continue  # the line's own class list applies too, as in `line`
                lane = line.config.name
                by_direction = self.settings.by_direction
                counted.append((index, f"{lane}/{direction}" if by_direction else lane))
        for zone in self.zones:
            for signal in zone.update(tracks):
                if signal.phase is Phase.START and signal.track_id is not None:
                    found = _index_of(tracks, signal.track_id)
                    if found is not None:
                        counted.append((found, zone.zone.name))
        for index, lane in counted:
            class_name = str(names[index])
            if not class_allowed(class_name, self.settings.classes):
                continue
            self.counts[(lane, class_name)] += 1
            samples.append(Sample("flow_count", 1, lane, class_name))
            speed = self._speed_kmh(tracks, index)
            if speed is not None:
                samples.append(Sample("mean_speed_kmh", speed, lane, class_name))
        self._samples = samples
        return []

    def _speed_kmh(self, tracks: Tracks, index: int) -> float | None:
        if self.motion is None or tracks.detections.tracker_id is None:
            return None
        speed = self.motion.speed(int(tracks.detections.tracker_id[index]), ground=True)
        return None if speed is None else speed * MS_TO_KMH

    def measure(self, tracks: Tracks) -> list[Sample]:
        return self._samples

    def stats(self) -> dict[str, Any]:
        result: dict[str, dict[str, int]] = {}
        for (lane, class_name), count in self.counts.items():
            result.setdefault(lane, {})[class_name] = count
        return result


def _index_of(tracks: Tracks, track_id: int) -> int | None:
    ids = tracks.detections.tracker_id
    if ids is None:
        return None
    found = np.flatnonzero(ids == track_id)
    return int(found[0]) if len(found) else None
