"""Weekly schedules in local time, and time-zone names: when an alert rule is active, when an
intrusion zone may be entered, which hour a count belongs to.

One implementation for all of them, on the bottom floor, because they are written in settings
(config, alert rules, module settings) and judged on the hot path. A moment is converted to
local time in the schedule's IANA zone first, so windows follow daylight saving time:
"08:00-17:00" is 07:00-16:00 UTC in Berlin's winter and 06:00-15:00 in its summer. On the
spring-forward night the skipped local hour simply never occurs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def check_timezone(value: str) -> str:
    """The IANA zone name itself, or ValueError with a message for whoever wrote it."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown IANA time zone {value!r}; use a name such as Europe/Berlin or UTC"
        ) from None
    return value


class TimeWindow(BaseModel):
    """A daily time window in the schedule's time zone. An `end` at or before `start` runs past
    midnight into the next day, which then belongs to the day it started on."""

    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS), min_length=1, description="Days it starts on"
    )
    start: str = Field(description="Local time HH:MM")
    end: str = Field(description="Local time HH:MM; 24:00 is the end of the day")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"{value!r} is not a time HH:MM (00:00 to 24:00)")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> TimeWindow:
        if self.start == "24:00":
            raise ValueError("start: 24:00 is only allowed as an end")
        if self.start_minute == self.end_minute:
            raise ValueError(
                f"start and end are both {self.start}: the window would be empty "
                "(a whole day is 00:00-24:00)"
            )
        return self

    @property
    def start_minute(self) -> int:
        return _minute(self.start)

    @property
    def end_minute(self) -> int:
        return _minute(self.end)

    def contains(self, weekday: int, minute: int) -> bool:
        """Is local `minute` of the day (0-1439) on `weekday` (0 = Monday) inside?"""
        days = {WEEKDAYS.index(name) for name in self.days}
        start, end = self.start_minute, self.end_minute
        if start < end:
            return weekday in days and start <= minute < end
        # Past midnight: the evening belongs to a listed day, the morning to the day after it.
        return (weekday in days and minute >= start) or ((weekday - 1) % 7 in days and minute < end)


def _minute(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def in_windows(windows: Iterable[TimeWindow], timezone: str, at_ms: int) -> bool:
    """Whether the moment `at_ms` (epoch ms) falls in any of the weekly windows, read in local
    time of `timezone`."""
    local = datetime.fromtimestamp(at_ms / 1000, ZoneInfo(timezone))
    minute = local.hour * 60 + local.minute
    return any(window.contains(local.weekday(), minute) for window in windows)
