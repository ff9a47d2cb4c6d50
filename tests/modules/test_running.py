"""running: faster than a threshold (box heights per second, or m/s) for a minimum time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.modules.synth import Obj, Path, Run, box_at, build, camera, every, run, scene
from vigil.config import ConfigError
from vigil.domain.events import Phase


def watch(settings: dict[str, Any], *objects: Any, end: int = 8000, **options: Any) -> Run:
    return run(build("running", settings, **options), scene(every(200, end), *objects))


def test_a_runner_is_reported_and_a_walker_is_not() -> None:
    walker = Path(1, "person", (0, 300), (50, 0), h=60)  # 0.83 heights/s
    runner = Path(2, "person", (0, 400), (150, 0), h=60)  # 2.5 heights/s
    result = watch({}, walker, runner)
    assert {s.track_id for _, s in result.signals} == {2}
    (start_ts, start) = result.starts()[0]
    assert start_ts == 1600  # speed known from 0.6 s, over the threshold for 1 s
    assert start.type == "running" and start.class_name == "person"
    assert start.attributes["speed"] == pytest.approx(2.5)
    assert start.attributes["unit"] == "heights/s" and start.attributes["min_speed"] == 1.6


def test_speed_is_relative_to_the_size_of_the_person() -> None:
    far_runner = Path(1, "person", (0, 100), (75, 0), h=30)  # 75 px/s but 2.5 heights/s
    near_walker = Path(2, "person", (0, 450), (100, 0), h=120)  # 100 px/s, 0.83 heights/s
    result = watch({}, far_runner, near_walker)
    assert {s.track_id for _, s in result.starts()} == {1}


def test_a_short_burst_is_not_running_and_slowing_down_ends_it() -> None:
    burst = Path(1, "person", (0, 300), (150, 0), t1=1400)
    assert watch({}, burst).signals == []

    def stops_running(ts: int) -> Obj:
        x = 150 * ts / 1000 if ts <= 4000 else 600 + 30 * (ts - 4000) / 1000
        return (1, "person", box_at(x, 300))

    result = watch({"clear_s": 1}, stops_running)
    assert result.phases() == [Phase.START, Phase.END]
    end_ts, end = result.ends()[0]
    assert 4400 < end_ts <= 6200 and end.attributes["max_speed"] == pytest.approx(2.5)


def test_classes_and_zones() -> None:
    car = Path(1, "car", (0, 300), (300, 0))
    assert watch({}, car).signals == []
    runner_outside = Path(2, "person", (0, 400), (150, 0))  # below the plaza
    assert watch({"zones": ["plaza"]}, runner_outside).signals == []
    runner_inside = Path(3, "person", (100, 200), (75, 0), h=30)  # 2.5 heights/s
    assert watch({"zones": ["plaza"]}, runner_inside).phases()[0] is Phase.START


def test_metres_per_second_need_a_calibration() -> None:
    with pytest.raises(ConfigError, match=r"modules\.running: unit m/s needs a ground calib"):
        camera({"running": {"unit": "m/s"}})
    jogger = Path(1, "person", (0, 300), (40, 0))  # 10 px per metre: 4 m/s
    walker = Path(2, "person", (0, 400), (14, 0))  # 1.4 m/s
    result = watch({"unit": "m/s"}, jogger, walker, calibrated=True)
    assert {s.track_id for _, s in result.starts()} == {1}
    assert result.starts()[0][1].attributes["speed"] == pytest.approx(4.0)
