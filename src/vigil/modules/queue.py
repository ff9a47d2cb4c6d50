"""Queue length and estimated waiting time in a zone.

The queue is the objects standing in the zone (optionally only the slow ones: people walking
through a zone are not queueing). Each visit is followed as in `zone` (with `exit_grace_s`), and
a visit that ends is a departure. The waiting time comes from the departures of the last
`window_s`:

- `departure_rate` (Little's law): queue length ÷ departures per second;
- `recent_dwell`: the mean time the departed objects spent in the queue.

With no departure in the window the estimate is the longest time anyone now in the queue has
already waited: a lower bound, and the right signal for a queue that does not move.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from vigil.config import CameraConfig, ZoneConfig
from vigil.domain.events import Phase
from vigil.modules.base import ModuleBase, ModuleSettings, Sample, Signal, Tracks
from vigil.modules.debounce import Debounce
from vigil.modules.dwell import ZoneDwell
from vigil.modules.geometry import Motion, or_default, select
from vigil.modules.registry import register


class QueueSettings(ModuleSettings):
    zones: list[str] | None = Field(
        None, min_length=1, description="Queue zones; all zones of the camera when unset"
    )
    classes: list[str] | None = Field(
        ["person"], min_length=1, description="Object classes that queue; all when unset"
    )
    slow_only: bool = Field(
        False, description="Count only objects slower than max_speed (not those walking through)"
    )
    max_speed: float = Field(
        0.3, gt=0.0, description="With slow_only: speed in box heights per second, at most"
    )
    wait_method: Literal["departure_rate", "recent_dwell"] = Field(
        "departure_rate",
        description="Waiting time from length ÷ departure rate, or from recent departures' dwell",
    )
    window_s: float = Field(
        300.0, gt=0.0, description="Sliding window of departures for the waiting time"
    )
    max_length: int | None = Field(
        10, ge=1, description="Queue length at or above which `queue.long` starts; null: off"
    )
    max_wait_s: float | None = Field(
        None, gt=0.0, description="Waiting time at or above which `queue.long` starts; null: off"
    )
    min_duration_s: float = Field(
        30.0, ge=0.0, description="Over a threshold at least this long before the event starts"
    )
    clear_s: float = Field(30.0, ge=0.0, description="Under the thresholds this long ends it")
    exit_grace_s: float = Field(
        2.0, ge=0.0, description="Outside or unseen this long and an object has left the queue"
    )
    update_every_s: float = Field(30.0, gt=0.0, description="Interval of updates while it lasts")


class _Queue:
    def __init__(self, zone: ZoneConfig, settings: QueueSettings) -> None:
        self.zone = zone
        self.settings = settings
        self.visits = ZoneDwell(
            zone,
            event_type="queue.member",
            classes=settings.classes,
            min_dwell_s=0.0,
            exit_grace_s=settings.exit_grace_s,
            update_every_s=1e9,  # members' dwell is read from START/END, never from updates
        )
        self.entered: dict[Any, int] = {}  # visit key → entry time
        self.departures: deque[tuple[int, float]] = deque()  # time, seconds in the queue
        self.hold = Debounce(settings.min_duration_s, settings.clear_s)
        self.first_ms: int | None = None
        self.last_emit_ms = 0
        self.length = 0
        self.wait_s = 0.0
        self.peak = 0

    def update(self, tracks: Tracks) -> list[Signal]:
        now = tracks.ts_ms
        self.first_ms = now if self.first_ms is None else self.first_ms
        for member in self.visits.update(tracks):
            dwell_ms = int((member.dwell_s or 0.0) * 1000)
            if member.phase is Phase.START:
                self.entered[member.key] = now - dwell_ms
            elif member.phase is Phase.END:
                self.entered.pop(member.key, None)
                self.departures.append((now, dwell_ms / 1000))
        while self.departures and self.departures[0][0] < now - self.settings.window_s * 1000:
            self.departures.popleft()
        self.length = self.visits.occupancy
        self.wait_s = self._wait(now)
        return self._judge(now)

    def _wait(self, now: int) -> float:
        if not self.length:
            return 0.0
        if self.departures:
            if self.settings.wait_method == "recent_dwell":
                return float(np.mean([dwell for _, dwell in self.departures]))
            # Before a whole window has passed, the rate is over the time observed so far.
            observed_s = min(self.settings.window_s, (now - or_default(self.first_ms, now)) / 1000)
            rate = len(self.departures) / max(observed_s, 1.0)
            return self.length / rate
        return (now - min(self.entered.values())) / 1000 if self.entered else 0.0

    def _judge(self, now: int) -> list[Signal]:
        settings = self.settings
        long_ = (settings.max_length is not None and self.length >= settings.max_length) or (
            settings.max_wait_s is not None and self.wait_s >= settings.max_wait_s
        )
        self.peak = (self.length if long_ else 0) if self.hold.idle else max(self.peak, self.length)
        phase = self.hold.step(now, long_)
        if phase is Phase.START and self.hold.since_ms is not None:
            self.last_emit_ms = now
            return [self.signal(Phase.START, self.hold.since_ms)]
        if phase is Phase.END and self.hold.ended is not None:
            return [self.signal(Phase.END, self.hold.ended[0])]
        if (
            self.hold.active
            and self.hold.since_ms is not None
            and now - self.last_emit_ms >= settings.update_every_s * 1000
        ):
            self.last_emit_ms = now
            return [self.signal(Phase.UPDATE, self.hold.since_ms)]
        return []

    def signal(self, phase: Phase, since_ms: int) -> Signal:
        return Signal(
            (self.zone.name, since_ms),
            phase,
            "queue.long",
            zone=self.zone.name,
            attributes={
                "length": self.length,
                "peak_length": self.peak,
                "wait_s": round(self.wait_s, 1),
                "wait_method": self.settings.wait_method,
                "departures_in_window": len(self.departures),
                "since_ms": since_ms,
            },
        )


@register
class QueueModule(ModuleBase):
    name: ClassVar[str] = "queue"
    description: ClassVar[str] = "Queue length and estimated waiting time in a zone"
    settings_model: ClassVar[type[QueueSettings]] = QueueSettings

    def __init__(self, settings: QueueSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.queues = [
            _Queue(zone, settings)
            for zone in camera.zones
            if settings.zones is None or zone.name in settings.zones
        ]
        self.motion = Motion(1.0) if settings.slow_only else None

    def update(self, tracks: Tracks) -> list[Signal]:
        view = tracks
        if self.motion is not None:
            self.motion.update(tracks.detections, tracks.ts_ms)
            # An object whose speed is not known yet (NaN: just appeared) counts once it is.
            speeds = self.motion.speeds(tracks.detections, "heights/s")
            view = select(tracks, np.nan_to_num(speeds, nan=np.inf) <= self.settings.max_speed)
        return [signal for queue in self.queues for signal in queue.update(view)]

    def finish(self, ts_ms: int) -> list[Signal]:
        return [
            queue.signal(Phase.END, queue.hold.since_ms)
            for queue in self.queues
            if queue.hold.active and queue.hold.since_ms is not None
        ]

    def measure(self, tracks: Tracks) -> list[Sample]:
        samples = []
        for queue in self.queues:
            samples.append(Sample("queue_length", queue.length, queue.zone.name))
            samples.append(Sample("wait_s", queue.wait_s, queue.zone.name))
        return samples

    def stats(self) -> dict[str, Any]:
        return {
            queue.zone.name: {"length": queue.length, "wait_s": round(queue.wait_s, 1)}
            for queue in self.queues
        }
