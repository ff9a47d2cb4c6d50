"""wrong_way: moving inside a lane against its allowed direction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.modules.synth import Obj, Path, Run, box_at, build, camera, every, run, scene
from vigil.config import ConfigError
from vigil.domain.events import Phase

EASTBOUND = {"lanes": [{"zone": "plaza", "angle_deg": 0}]}  # plaza: x 100..300, y 100..300


def drive(settings: dict[str, Any], *objects: Any, end: int = 10000, **options: Any) -> Run:
    return run(build("wrong_way", settings, **options), scene(every(200, end), *objects))


def test_moving_against_the_lane_starts_after_min_distance_and_ends_on_leaving() -> None:
    westward = Path(1, "car", (320, 200), (-40, 0))  # enters at 0.5 s, leaves at 5.5 s
    result = drive(EASTBOUND, westward)
    assert result.phases() == [Phase.START, Phase.END]
    (start_ts, start), (end_ts, end) = result.starts()[0], result.ends()[0]
    assert start_ts == 1600  # first seen inside at 0.6 s, 40 px later
    assert start.type == "wrong_way" and start.zone == "plaza" and start.track_id == 1
    assert start.attributes["angle_deg"] == pytest.approx(180.0)
    # Last inside at 5.4 s; outside for more than the 2 s grace at 7.6 s.
    assert end_ts == 7600 and end.attributes["reason"] == "left"


def test_the_allowed_direction_and_jitter_do_not_trigger() -> None:
    eastward = Path(1, "car", (80, 150), (40, 0))
    rng = np.random.default_rng(3)

    def jittering(ts: int) -> Obj:
        dx, dy = rng.uniform(-6, 6, size=2)
        return (2, "car", box_at(200 + dx, 250 + dy))

    assert drive(EASTBOUND, eastward, jittering, end=30000).signals == []


def test_tolerance_decides_about_crossing_the_lane() -> None:
    southward = Path(1, "person", (200, 90), (0, 40))  # at 90° to the lane
    assert drive(EASTBOUND, southward).signals == []  # tolerance 100° accepts 90°
    strict = {**EASTBOUND, "tolerance_deg": 80}
    assert drive(strict, southward).phases() == [Phase.START, Phase.END]
    diagonal_back = Path(2, "person", (290, 110), (-30, 30))  # 135° off
    assert drive(EASTBOUND, diagonal_back).phases() == [Phase.START, Phase.END]


def test_turning_round_ends_the_event() -> None:
    def u_turn(ts: int) -> Obj:
        x = 280 - 40 * ts / 1000 if ts <= 3000 else 160 + 40 * (ts - 3000) / 1000
        return (1, "car", box_at(x, 200))

    result = drive(EASTBOUND, u_turn, end=5000)
    assert result.phases() == [Phase.START, Phase.END]
    assert result.ends()[0][1].attributes["reason"] == "turned"


def test_angle_and_vector_conventions() -> None:
    upwards = Path(1, "person", (200, 320), (0, -40))  # moving up the screen
    up = {"lanes": [{"zone": "plaza", "angle_deg": 90}]}
    down_vector = {"lanes": [{"zone": "plaza", "direction": [0, 1]}]}
    assert drive(up, upwards).signals == []
    assert drive(down_vector, upwards).phases() == [Phase.START, Phase.END]


def test_ground_lanes_use_metres_and_need_a_calibration() -> None:
    ground = {"lanes": [{"zone": "plaza", "angle_deg": 90, "coordinates": "ground"}]}
    with pytest.raises(ConfigError, match=r"modules\.wrong_way: lane 'plaza' in ground coord"):
        camera({"wrong_way": ground})
    # Test calibration: ground +y is image +y (down), 10 px per metre; min distance 3 m = 30 px.
    upwards = Path(1, "person", (200, 320), (0, -20))
    result = drive(ground, upwards, calibrated=True)
    # First inside at 1.0 s (y = 300, on the zone's edge, which belongs to the zone); 30 px
    # farther at 20 px/s: from 2.5 s, the 2.6 s frame.
    assert [ts for ts, _ in result.starts()] == [2600]


def test_classes_filter() -> None:
    westward = Path(1, "person", (320, 200), (-40, 0))
    assert drive({**EASTBOUND, "classes": ["car", "truck"]}, westward).signals == []


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="either `direction` or `angle_deg`"):
        camera({"wrong_way": {"lanes": [{"zone": "plaza", "angle_deg": 0, "direction": [1, 0]}]}})
    with pytest.raises(ConfigError, match="zero vector"):
        camera({"wrong_way": {"lanes": [{"zone": "plaza", "direction": [0, 0]}]}})
    with pytest.raises(ConfigError, match=r"modules\.wrong_way\.zones: road not defined"):
        camera({"wrong_way": {"lanes": [{"zone": "road", "angle_deg": 0}]}})
    with pytest.raises(ConfigError, match="one lane only"):
        camera({"wrong_way": {"lanes": [EASTBOUND["lanes"][0], EASTBOUND["lanes"][0]]}})
    with pytest.raises(ConfigError, match=r"modules\.wrong_way\.lanes"):
        camera({"wrong_way": {"lanes": []}})
