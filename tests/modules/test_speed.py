"""speed: km/h from the ground calibration, and speeding events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.modules.synth import Obj, Path, Run, box_at, build, camera, every, run, scene
from vigil.config import ConfigError
from vigil.domain.events import Phase

# The test calibration is 10 px per metre: 100 px/s = 10 m/s = 36 km/h.


def measure(settings: dict[str, Any], *objects: Any, end: int = 6000) -> Run:
    module = build("speed", settings, calibrated=True)
    return run(module, scene(every(200, end), *objects))


def test_needs_a_ground_calibration() -> None:
    with pytest.raises(ConfigError, match=r"modules\.speed: speed estimation needs a ground cal"):
        camera({"speed": {}})


def test_speed_samples_per_class_in_kmh() -> None:
    car = Path(1, "car", (0, 400), (100, 0))
    cyclist = Path(2, "bicycle", (0, 450), (50, 0))
    result = measure({}, car, cyclist)
    by_class: dict[str | None, list[float]] = {}
    for _, sample in result.samples:
        assert sample.metric == "speed_kmh"
        by_class.setdefault(sample.class_name, []).append(sample.value)
    assert by_class["car"] == pytest.approx([36.0] * len(by_class["car"]))
    assert by_class["bicycle"] == pytest.approx([18.0] * len(by_class["bicycle"]))
    assert len(by_class["car"]) == 28  # from 0.6 s (half a window of history) to 6 s


def test_speeding_starts_after_min_duration_and_ends_after_clear() -> None:
    def slowing(ts: int) -> Obj:
        # 36 km/h for 5 s, then 9 km/h.
        x = 100 * ts / 1000 if ts <= 5000 else 500 + 25 * (ts - 5000) / 1000
        return (1, "car", box_at(x, 400, 40, 30))

    result = measure({"limit_kmh": 30, "min_duration_s": 1, "clear_s": 1}, slowing, end=9000)
    assert result.phases() == [Phase.START, Phase.END]
    (start_ts, start), (end_ts, end) = result.starts()[0], result.ends()[0]
    assert start_ts == 1600  # speed known from 0.6 s, over the limit for 1 s
    assert start.type == "speeding" and start.class_name == "car"
    assert start.attributes["speed_kmh"] == pytest.approx(36.0)
    assert start.attributes["limit_kmh"] == 30
    # The 1 s window holds 8.5 m at 5.2 s (30.6 km/h) and 7 m at 5.4 s (25.2 km/h): under the
    # limit from 5.4 s, and the event ends once it has been under for more than 1 s.
    assert end_ts == 6400
    assert end.attributes["max_speed_kmh"] == pytest.approx(36.0)


def test_under_the_limit_or_too_briefly_over_is_quiet() -> None:
    car = Path(1, "car", (0, 400), (80, 0))  # 28.8 km/h
    assert measure({"limit_kmh": 30}, car).signals == []
    burst = Path(2, "car", (0, 400), (150, 0), t1=1200)  # 54 km/h, seen for 1.2 s
    assert measure({"limit_kmh": 30, "min_duration_s": 1}, burst).signals == []
    assert measure({"limit_kmh": None}, Path(3, "car", (0, 400), (300, 0))).signals == []


def test_implausible_jumps_are_dropped() -> None:
    def swapped(ts: int) -> Obj:
        x = 100 if ts < 3000 else 600  # the tracker swapped ids: 50 m in 0.2 s
        return (1, "car", box_at(x, 400))

    result = measure({"limit_kmh": 30, "min_duration_s": 0}, swapped)
    assert result.signals == []
    assert max(sample.value for _, sample in result.samples) < 250


def test_zones_and_classes_restrict_what_is_measured() -> None:
    car = Path(1, "car", (0, 200), (100, 0))  # crosses the plaza (x 100..300) at y 200
    person = Path(2, "person", (120, 200), (10, 0))
    result = measure({"zones": ["plaza"], "classes": ["car"]}, car, person)
    assert {(s.class_name, s.place) for _, s in result.samples} == {("car", "plaza")}
    # x = ts / 10; the zone's edges belong to it, so x = 100 and x = 300 both count.
    assert [ts for ts, _ in result.samples] == list(every(200, 3000, 1000))
