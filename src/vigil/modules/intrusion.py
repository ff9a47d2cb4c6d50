"""Intrusion: presence in a zone outside the weekly times when it is allowed.

`allowed` lists the weekly windows (local time of `timezone`, an IANA name) during which
objects may be in the zone, e.g. opening hours; at any other time presence is an intrusion. An
empty list means never allowed. Local time comes from the camera clock through the time zone's
rules, so windows follow daylight-saving changes (a window 08:00–18:00 is 08:00–18:00 on the wall
clock in winter and in summer).

An intrusion is a visit, as in `zone`: it starts once an object has been in the zone for
`min_duration_s` at a time that is not allowed, and ends when it leaves (outside or unseen for
`exit_grace_s`) or when the zone becomes allowed. Someone who entered while it was allowed and
is still there when the window closes is an intruder from that moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import numpy as np
import supervision as sv
from pydantic import Field, field_validator

from vigil.config import CameraConfig
from vigil.domain.events import Phase
from vigil.domain.schedule import TimeWindow, check_timezone, in_windows
from vigil.modules.base import ModuleBase, ModuleSettings, Signal, Tracks
from vigil.modules.dwell import ZoneDwell
from vigil.modules.registry import register


class IntrusionSettings(ModuleSettings):
    zones: list[str] | None = Field(
        None, min_length=1, description="Zone names to watch; all zones when unset"
    )
    classes: list[str] | None = Field(
        ["person"], min_length=1, description="Object classes that intrude; all when unset"
    )
    timezone: str = Field("UTC", description="IANA time zone of the windows, e.g. Europe/Berlin")
    allowed: list[TimeWindow] = Field(
        default_factory=list,
        description="Weekly windows when presence is allowed; empty: never allowed",
    )
    min_duration_s: float = Field(
        1.0, ge=0.0, description="In the zone this long outside the windows before it counts"
    )
    exit_grace_s: float = Field(2.0, ge=0.0, description="Outside/unseen this long ends it")
    update_every_s: float = Field(10.0, gt=0.0, description="Interval of updates while it lasts")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)

    def is_allowed(self, ts_ms: int) -> bool:
        return in_windows(self.allowed, self.timezone, ts_ms)


@register
class IntrusionModule(ModuleBase):
    name: ClassVar[str] = "intrusion"
    description: ClassVar[str] = (
        "Intrusion: presence in a zone outside weekly allowed times (time-zone aware)"
    )
    settings_model: ClassVar[type[IntrusionSettings]] = IntrusionSettings

    def __init__(self, settings: IntrusionSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self.zones = [
            ZoneDwell(
                zone,
                event_type="intrusion",
                classes=settings.classes,
                min_dwell_s=settings.min_duration_s,
                exit_grace_s=settings.exit_grace_s,
                update_every_s=settings.update_every_s,
            )
            for zone in camera.zones
            if settings.zones is None or zone.name in settings.zones
        ]
        self.allowed_now = False

    def update(self, tracks: Tracks) -> list[Signal]:
        self.allowed_now = self.settings.is_allowed(tracks.ts_ms)
        # While presence is allowed nobody is seen: visits under way end after the grace.
        view = _nobody(tracks) if self.allowed_now else tracks
        signals = [signal for zone in self.zones for signal in zone.update(view)]
        for signal in signals:
            if signal.phase is Phase.START:
                local = datetime.fromtimestamp(tracks.ts_ms / 1000, self.zone)
                signal.attributes = {
                    "local_time": local.isoformat(timespec="seconds"),
                    "timezone": self.settings.timezone,
                }
        return signals

    def finish(self, ts_ms: int) -> list[Signal]:
        return [signal for zone in self.zones for signal in zone.finish(ts_ms)]

    def stats(self) -> dict[str, Any]:
        return {
            "allowed_now": self.allowed_now,
            **{zone.zone.name: {"intruders": zone.occupancy} for zone in self.zones},
        }


def _nobody(tracks: Tracks) -> Tracks:
    empty = sv.Detections.empty()
    empty.tracker_id = np.zeros(0, dtype=int)
    empty.data["class_name"] = np.zeros(0, dtype=str)
    return Tracks(tracks.camera_id, tracks.ts_ms, empty, tracks.frame_shape)
