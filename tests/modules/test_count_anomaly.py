"""count_anomaly: hourly counts far above the learned baseline for that hour."""

from __future__ import annotations

from datetime import datetime
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.modules.synth import Run, box_at, build, frame, run
from vigil.domain.events import Phase
from vigil.modules.base import AnalyticsModule, Tracks

UTC = ZoneInfo("UTC")
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MONDAY = int(datetime(2024, 3, 4, tzinfo=UTC).timestamp() * 1000)
DAILY = {"baseline": "hour_of_day"}
_ids = count(1)


def hour_of_crossings(hour_start: int, crossings: int, cls: str = "person") -> list[Tracks]:
    """Frames watching one whole hour in which `crossings` objects cross the gate (x = 400)
    eastwards, 30 s apart."""
    frames = [frame(hour_start + 1000)]
    for i in range(crossings):
        ts, track = hour_start + 30_000 * (i + 1), next(_ids)
        frames.append(frame(ts, (track, cls, box_at(390, 300))))
        frames.append(frame(ts + 1000, (track, cls, box_at(410, 300))))
    frames.append(frame(hour_start + HOUR_MS - 1000))
    return frames


def days(module: AnalyticsModule, counts: list[int], hour: int = 8, **kw: Any) -> Run:
    frames = [
        f
        for d, n in enumerate(counts)
        for f in hour_of_crossings(MONDAY + d * DAY_MS + hour * HOUR_MS, n, **kw)
    ]
    return run(module, frames, finish=True)


def test_a_spike_over_the_learned_baseline_is_a_scene_event_for_that_hour() -> None:
    module = build("count_anomaly", DAILY)
    result = days(module, [10, 12, 11, 9, 40])
    assert result.phases() == [Phase.START, Phase.END]
    (start_ts, start), (_, end) = result.starts()[0], result.ends()[0]
    assert start.type == "count.anomaly" and start.track_id is None and start.class_name is None
    # Mean 10.5; spread max(std 1.3, √10.5 = 3.24, 1); threshold 10.5 + 4 × 3.24 = 23.5.
    assert start.attributes["count"] == 24 and start.attributes["expected"] == pytest.approx(10.5)
    assert start.attributes["class"] == "person" and start.attributes["hour"] == "08:00"
    assert start.attributes["history"] == 4 and start.attributes["sources"] == ["gate"]
    assert start_ts == MONDAY + 4 * DAY_MS + 8 * HOUR_MS + 24 * 30_000 + 1000
    assert end.attributes["count"] == 40


def test_normal_hours_and_too_little_history_are_quiet() -> None:
    assert days(build("count_anomaly", DAILY), [10, 12, 11, 9, 13]).signals == []
    assert days(build("count_anomaly", DAILY), [10, 12, 40]).signals == []  # 2 days < 3
    quiet = days(build("count_anomaly", {**DAILY, "min_count": 10}), [0, 0, 0, 0, 9])
    assert quiet.signals == []  # z = 9, but fewer than min_count crossings


def test_each_hour_of_the_week_has_its_own_baseline() -> None:
    weekly = build("count_anomaly", {"min_history": 1})
    # Four Mondays of 10 at 08:00, and the Tuesdays in between busy: 40.
    frames = []
    for week in range(4):
        monday = MONDAY + week * 7 * DAY_MS + 8 * HOUR_MS
        frames += hour_of_crossings(monday, 10) + hour_of_crossings(monday + DAY_MS, 40)
    assert run(weekly, frames).signals == []
    spike = run(weekly, hour_of_crossings(MONDAY + 28 * DAY_MS + 8 * HOUR_MS, 40), finish=True)
    assert spike.starts()[0][1].attributes["hour"] == "mon 08:00"


def test_hours_the_camera_saw_only_partly_are_not_learned() -> None:
    module = build("count_anomaly", DAILY)
    for d in range(4):
        start = MONDAY + d * DAY_MS + 8 * HOUR_MS + HOUR_MS // 2  # camera on from 08:30
        run(module, [frame(start + 1000), frame(start + HOUR_MS // 2 - 1000)], finish=True)
    assert module.stats()["learned_slots"] == 0


def test_hours_are_local_time() -> None:
    berlin = build("count_anomaly", {**DAILY, "timezone": "Europe/Berlin"})
    # 07:00 UTC is 08:00 in Berlin in March (UTC+1).
    result = days(berlin, [10, 12, 11, 9, 40], hour=7)
    assert result.starts()[0][1].attributes["hour"] == "08:00"


def test_a_restart_relearns_from_nothing() -> None:
    module = build("count_anomaly", DAILY)
    days(module, [10, 12, 11, 9])
    restarted = build("count_anomaly", DAILY)
    frames = hour_of_crossings(MONDAY + 4 * DAY_MS + 8 * HOUR_MS, 40)
    assert run(restarted, frames).signals == []
    assert run(module, frames).phases() == [Phase.START]


def test_classes_and_directions() -> None:
    cars = build("count_anomaly", {**DAILY, "classes": ["car"]})
    assert days(cars, [10, 12, 11, 9, 40]).signals == []  # people are not counted
    outbound = build("count_anomaly", {**DAILY, "direction": "out"})
    assert days(outbound, [10, 12, 11, 9, 40]).signals == []  # they all walk "in"
    together = build("count_anomaly", {**DAILY, "classes": None})
    assert (
        days(together, [10, 12, 11, 9, 40], cls="dog").starts()[0][1].attributes["class"] == "all"
    )
