"""Weekly windows and time-zone names (vigil.domain.schedule): alert rules, the intrusion
module and the count-anomaly module all read and check them with this one implementation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from vigil.alerts.config import Schedule
from vigil.domain.schedule import TimeWindow, check_timezone, in_windows
from vigil.modules.intrusion import IntrusionSettings

BERLIN = ZoneInfo("Europe/Berlin")


def ms(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=BERLIN).timestamp() * 1000)


def test_overnight_windows_belong_to_the_day_they_open_in_local_time() -> None:
    night = [TimeWindow(days=["fri"], start="22:00", end="06:00")]
    assert in_windows(night, "Europe/Berlin", ms(2024, 3, 29, 23, 0))  # Friday night
    assert in_windows(night, "Europe/Berlin", ms(2024, 3, 30, 5, 59))  # Saturday morning
    assert not in_windows(night, "Europe/Berlin", ms(2024, 3, 30, 6, 0))
    assert not in_windows(night, "Europe/Berlin", ms(2024, 3, 29, 5, 0))  # Thursday's night


def test_alert_schedules_and_intrusion_windows_agree() -> None:
    window = {"days": ["mon"], "start": "08:00", "end": "18:00"}
    schedule = Schedule.model_validate({"timezone": "Europe/Berlin", "windows": [window]})
    intrusion = IntrusionSettings.model_validate({"timezone": "Europe/Berlin", "allowed": [window]})
    for moment in (ms(2024, 4, 1, 7, 59), ms(2024, 4, 1, 8, 0), ms(2024, 4, 1, 18, 0)):
        assert schedule.is_active(moment) == intrusion.is_allowed(moment)


def test_bad_names_and_windows_are_refused_with_one_message() -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone 'Europe/Berlín'"):
        check_timezone("Europe/Berlín")
    with pytest.raises(ValidationError, match="'8:00' is not a time HH:MM"):
        TimeWindow(start="8:00", end="18:00")
    with pytest.raises(ValidationError, match="the window would be empty"):
        TimeWindow(start="08:00", end="08:00")
