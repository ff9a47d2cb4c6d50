"""intrusion: presence in a zone outside weekly allowed windows, in local time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.modules.synth import Path, Run, build, camera, every, run, scene
from vigil.config import ConfigError
from vigil.domain.events import Phase
from vigil.modules.intrusion import IntrusionSettings

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE_HOURS = {
    "timezone": "Europe/Berlin",
    "allowed": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}],
}


def ms(*local: int, tz: ZoneInfo = BERLIN) -> int:
    return int(datetime(*local, tzinfo=tz).timestamp() * 1000)  # type: ignore[misc]


def visit(settings: dict[str, Any], start_ms: int, seconds: int, end_s: int = 40) -> Run:
    """A person standing in the plaza for `seconds`, watched for `end_s` seconds."""
    person = Path(1, "person", (200, 200), t0=start_ms, t1=start_ms + seconds * 1000)
    times = every(1000, start_ms + end_s * 1000, start_ms)
    return run(build("intrusion", {**settings, "update_every_s": 600}), scene(times, person))


def test_presence_outside_office_hours_is_an_intrusion() -> None:
    night = visit(OFFICE_HOURS, ms(2024, 3, 25, 7, 30), 20)  # Monday 07:30 in Berlin
    assert night.phases() == [Phase.START, Phase.END]
    start_ts, start = night.starts()[0]
    assert start_ts == ms(2024, 3, 25, 7, 30, 1)  # after min_duration_s (1 s)
    assert start.type == "intrusion" and start.zone == "plaza" and start.class_name == "person"
    assert start.attributes == {
        "local_time": "2024-03-25T07:30:01+01:00",
        "timezone": "Europe/Berlin",
    }
    assert night.ends()[0][1].dwell_s == pytest.approx(20.0)  # time in the zone
    assert visit(OFFICE_HOURS, ms(2024, 3, 25, 9, 0), 20).signals == []  # Monday 09:00
    assert visit(OFFICE_HOURS, ms(2024, 3, 23, 12, 0), 20).phases()[0] is Phase.START  # Sat


def test_windows_follow_daylight_saving_time() -> None:
    settings = IntrusionSettings.model_validate(OFFICE_HOURS)
    utc = ZoneInfo("UTC")
    # 06:30 UTC is 07:30 in Berlin in winter (closed) and 08:30 in summer (open).
    assert not settings.is_allowed(ms(2024, 3, 29, 6, 30, tz=utc))  # Friday before the change
    assert settings.is_allowed(ms(2024, 4, 1, 6, 30, tz=utc))  # Monday after it
    # Wall-clock edges on the day after the change are exact.
    assert not settings.is_allowed(ms(2024, 4, 1, 7, 59, 59))
    assert settings.is_allowed(ms(2024, 4, 1, 8, 0))
    assert not settings.is_allowed(ms(2024, 4, 1, 18, 0))


def test_overnight_windows_belong_to_the_day_they_open() -> None:
    settings = IntrusionSettings.model_validate(
        {"timezone": "UTC", "allowed": [{"days": ["fri"], "start": "22:00", "end": "06:00"}]}
    )
    utc = ZoneInfo("UTC")
    assert settings.is_allowed(ms(2024, 3, 29, 23, 0, tz=utc))  # Friday night
    assert settings.is_allowed(ms(2024, 3, 30, 5, 59, tz=utc))  # Saturday early morning
    assert not settings.is_allowed(ms(2024, 3, 30, 6, 0, tz=utc))
    assert not settings.is_allowed(ms(2024, 3, 29, 5, 0, tz=utc))  # Thursday's night: not listed
    assert not IntrusionSettings.model_validate({}).is_allowed(ms(2024, 3, 29, 12, 0))  # never


def test_staying_past_closing_time_becomes_an_intrusion_and_opening_ends_it() -> None:
    late = visit(OFFICE_HOURS, ms(2024, 3, 25, 17, 59, 30), 60, end_s=70)
    start_ts, _ = late.starts()[0]
    assert start_ts == ms(2024, 3, 25, 18, 0, 1)  # closed at 18:00, then 1 s min duration
    early = visit(OFFICE_HOURS, ms(2024, 3, 26, 7, 59, 40), 60, end_s=70)
    assert early.phases() == [Phase.START, Phase.END]
    end_ts, _ = early.ends()[0]
    # Open from 08:00: last an intruder at 07:59:59, ended once that is over 2 s (exit grace) ago.
    assert end_ts == ms(2024, 3, 26, 8, 0, 2)


def test_classes_filter() -> None:
    car = Path(1, "car", (200, 200))
    module = build("intrusion", {})
    assert run(module, scene(every(1000, 10000), car)).signals == []


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="unknown IANA time zone 'Mars/Olympus'"):
        camera({"intrusion": {"timezone": "Mars/Olympus"}})
    with pytest.raises(ConfigError, match="is not a time HH:MM"):
        camera({"intrusion": {"allowed": [{"start": "8:00", "end": "18:00"}]}})
    with pytest.raises(ConfigError, match="the window would be empty"):
        camera({"intrusion": {"allowed": [{"start": "08:00", "end": "08:00"}]}})
    with pytest.raises(
        ConfigError, match=r"modules\.intrusion\.allowed\.0\.days\.0: Input should be 'mon'"
    ):
        camera({"intrusion": {"allowed": [{"days": ["monday"], "start": "08:00", "end": "09:00"}]}})
    camera({"intrusion": {"allowed": [{"start": "00:00", "end": "24:00"}]}})
