"""Count anomaly: far more crossings or entries than usual for this hour of the week.

The module counts, per class, the objects crossing its lines (or entering its zones) in each
local hour (`timezone`, an IANA name, so the hours follow daylight saving). For every hour of the
week (or of the day, with `baseline: hour_of_day`) it keeps the running mean and variance of the
hourly counts (Welford). While an hour is under way, as soon as its count reaches
`mean + z_threshold × spread` the scene event `count.anomaly` starts; it ends when the hour ends.
The spread is the standard deviation, but at least √mean (the Poisson spread of counts) and at
least 1, so a quiet hour's zero variance does not make every extra passer-by an anomaly. Nothing
fires before `min_history` earlier observations of the same hour, nor below `min_count`.

Only hours the camera watched for at least 80 % (from their first to their last frame) are
learned: a camera that was off is not a quiet hour. The baseline lives in memory: after a
restart the module learns again from nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from vigil.config import CameraConfig
from vigil.domain.events import Phase
from vigil.domain.schedule import check_timezone
from vigil.modules.base import ModuleBase, ModuleSettings, Signal, Tracks, class_allowed
from vigil.modules.dwell import ZoneDwell
from vigil.modules.geometry import LineCounter
from vigil.modules.registry import register

HOUR_MS = 3_600_000
MIN_COVERAGE = 0.8
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CountAnomalySettings(ModuleSettings):
    lines: list[str] | None = Field(
        None, min_length=1, description="Lines whose crossings are counted; all lines if neither"
    )
    zones: list[str] | None = Field(
        None, min_length=1, description="Zones whose entries are counted"
    )
    direction: Literal["both", "in", "out"] = Field(
        "both", description="Which line crossings count"
    )
    classes: list[str] | None = Field(
        ["person"], min_length=1, description="Classes, each its own baseline; null: all as one"
    )
    baseline: Literal["hour_of_week", "hour_of_day"] = Field(
        "hour_of_week", description="Learn per hour of the week (168 slots) or of the day (24)"
    )
    timezone: str = Field("UTC", description="IANA time zone of the hours, e.g. Europe/Paris")
    z_threshold: float = Field(
        4.0, gt=0.0, description="Spreads above the mean at which a count is anomalous"
    )
    min_history: int = Field(
        3, ge=1, description="Earlier observations of the same hour needed before it fires"
    )
    min_count: int = Field(10, ge=1, description="Counts below this are never anomalous")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)


@dataclass(slots=True)
class Baseline:
    """Running mean and variance of one hour slot's counts (Welford's algorithm)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)

    @property
    def spread(self) -> float:
        std = math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0
        return max(std, math.sqrt(self.mean), 1.0)


@dataclass(slots=True)
class _Hour:
    start_ms: int  # UTC epoch ms of the local hour's start
    slot: int  # hour of week (0 = Monday 00:00) or of day
    label: str
    first_ms: int
    last_ms: int
    counts: Counter[str]
    open: dict[str, int]  # class → count when its anomaly started


@register
class CountAnomalyModule(ModuleBase):
    name: ClassVar[str] = "count_anomaly"
    description: ClassVar[str] = (
        "Count anomaly: crossings/entries far above the learned baseline for the hour of the week"
    )
    settings_model: ClassVar[type[CountAnomalySettings]] = CountAnomalySettings

    def __init__(self, settings: CountAnomalySettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone)
        every_line = settings.lines is None and settings.zones is None
        self.lines = [
            (line, LineCounter(line.start, line.end, 1))
            for line in camera.lines
            if every_line or (settings.lines is not None and line.name in settings.lines)
        ]
        self.zones = [
            ZoneDwell(
                zone,
                event_type="entry",
                classes=None,
                min_dwell_s=0.0,
                exit_grace_s=1.0,
                update_every_s=1e9,
            )
            for zone in camera.zones
            if settings.zones is not None and zone.name in settings.zones
        ]
        self.baselines: dict[tuple[str, int], Baseline] = {}
        self.hour: _Hour | None = None

    def update(self, tracks: Tracks) -> list[Signal]:
        now = tracks.ts_ms
        signals: list[Signal] = []
        start_ms, slot, label = self._local_hour(now)
        if self.hour is None or self.hour.start_ms != start_ms:
            signals += self._close_hour()
            self.hour = _Hour(start_ms, slot, label, now, now, Counter(), {})
        hour = self.hour
        hour.last_ms = now
        counted = set()
        for class_name in self._counted(tracks):
            hour.counts[class_name] += 1
            counted.add(class_name)
        for class_name in sorted(counted):
            signals += self._judge(hour, class_name)
        return signals

    def _counted(self, tracks: Tracks) -> list[str]:
        """Class (or "all") of every object counted on this frame."""
        names = tracks.class_names()
        found = []
        for line, counter in self.lines:
            for index, direction in counter.crossed(tracks):
                if self.settings.direction in ("both", direction) and class_allowed(
                    str(names[index]), line.classes
                ):
                    found.append(str(names[index]))
        for zone in self.zones:
            found += [
                signal.class_name or ""
                for signal in zone.update(tracks)
                if signal.phase is Phase.START
            ]
        if self.settings.classes is None:
            return ["all"] * len(found)
        return [name for name in found if name in self.settings.classes]

    def _judge(self, hour: _Hour, class_name: str) -> list[Signal]:
        if class_name in hour.open:
            return []
        baseline = self.baselines.get((class_name, hour.slot), Baseline())
        count = hour.counts[class_name]
        if baseline.n < self.settings.min_history or count < self.settings.min_count:
            return []
        z = (count - baseline.mean) / baseline.spread
        if z < self.settings.z_threshold:
            return []
        hour.open[class_name] = count
        return [self._signal(hour, class_name, Phase.START, baseline)]

    def _signal(self, hour: _Hour, class_name: str, phase: Phase, baseline: Baseline) -> Signal:
        count = hour.counts[class_name]
        return Signal(
            ("count.anomaly", class_name, hour.start_ms),
            phase,
            "count.anomaly",
            attributes={
                "class": class_name,
                "count": count,
                "expected": round(baseline.mean, 2),
                "spread": round(baseline.spread, 2),
                "z": round((count - baseline.mean) / baseline.spread, 2),
                "hour": hour.label,
                "history": baseline.n,
                "sources": [line.name for line, _ in self.lines]
                + [zone.zone.name for zone in self.zones],
            },
        )

    def _close_hour(self) -> list[Signal]:
        """End the hour's anomalies and learn its counts (if the camera saw enough of it)."""
        hour, self.hour = self.hour, None
        if hour is None:
            return []
        signals = [
            self._signal(hour, name, Phase.END, self.baselines.get((name, hour.slot), Baseline()))
            for name in sorted(hour.open)
        ]
        if hour.last_ms - hour.first_ms >= MIN_COVERAGE * HOUR_MS:
            classes = self.settings.classes or ["all"]
            for name in classes:
                self.baselines.setdefault((name, hour.slot), Baseline()).add(hour.counts[name])
        return signals

    def _local_hour(self, ts_ms: int) -> tuple[int, int, str]:
        local = datetime.fromtimestamp(ts_ms / 1000, self.tz)
        start = local.replace(minute=0, second=0, microsecond=0)
        weekly = self.settings.baseline == "hour_of_week"
        slot = local.weekday() * 24 + local.hour if weekly else local.hour
        label = f"{local.hour:02d}:00"
        if weekly:
            label = f"{_DAYS[local.weekday()]} {label}"
        return int(start.timestamp() * 1000), slot, label

    def finish(self, ts_ms: int) -> list[Signal]:
        return self._close_hour()

    def stats(self) -> dict[str, Any]:
        hour = self.hour
        return {
            "hour": hour.label if hour else None,
            "counts": dict(hour.counts) if hour else {},
            "learned_slots": len(self.baselines),
        }
