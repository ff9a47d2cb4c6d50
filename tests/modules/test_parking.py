"""parking: slot polygons, occupied or free, debounced."""

from __future__ import annotations

from typing import Any

import pytest

from tests.modules.synth import Obj, Path, Run, build, camera, every, run, scene
from vigil.config import ConfigError
from vigil.domain.events import Phase

SLOTS = [
    {"name": "A1", "polygon": [[150, 150], [250, 150], [250, 250], [150, 250]]},
    {"name": "A2", "polygon": [[300, 150], [400, 150], [400, 250], [300, 250]]},
]
SETTINGS = {"slots": SLOTS, "occupy_s": 10, "vacate_s": 10}


def car_box(cx: float, cy: float) -> tuple[float, float, float, float]:
    return (cx - 40, cy - 25, cx + 40, cy + 25)


def parks(track: int, slot_centre: tuple[float, float], arrive: int, leave: int) -> Any:
    """Drives in from the left (100 px/s), stands in the slot from `arrive` to `leave`, and
    drives on to the right."""

    def at(ts: int) -> Obj | None:
        if ts < arrive - 3000:
            return None
        cx = slot_centre[0] + 100 * min(0, ts - arrive) / 1000 + 100 * max(0, ts - leave) / 1000
        return (track, "car", car_box(cx, slot_centre[1]))

    return at


def park(settings: dict[str, Any], *objects: Any, end: int = 90000) -> Run:
    return run(build("parking", settings), scene(every(1000, end), *objects))


def test_a_stay_is_one_event_from_arrival_to_departure_debounced() -> None:
    result = park(SETTINGS, parks(1, (200, 200), 5000, 60000))
    assert result.phases() == [Phase.START, Phase.END]
    (start_ts, start), (end_ts, end) = result.starts()[0], result.ends()[0]
    assert start_ts == 15000 and start.type == "parking.occupied"
    assert start.zone == "A1" and start.class_name == "car" and start.track_id == 1
    # Sampled once a second, the car's centre is in the slot from 5 s to 60 s; it is free
    # after more than 10 s without a car.
    assert start.attributes["arrived_ms"] == 5000
    assert end.attributes["left_ms"] == 60000
    assert end_ts == 71000 and end.dwell_s == pytest.approx(55.0)


def test_samples_count_occupied_and_free_slots() -> None:
    result = park(SETTINGS, parks(1, (200, 200), 5000, 60000))
    occupied = dict(result.metric("occupied_slots"))
    free = dict(result.metric("free_slots"))
    assert occupied[10000] == 0 and occupied[20000] == 1 and occupied[80000] == 0
    assert all(occupied[ts] + free[ts] == 2 for ts in occupied)
    per_slot = dict(result.metric("occupied", "A1"))
    assert per_slot[20000] == 1 and set(dict(result.metric("occupied", "A2")).values()) == {0}


def test_driving_through_or_a_missed_detection_changes_nothing() -> None:
    through = Path(2, "car", (100, 200), (100, 0), w=80, h=50)
    assert park(SETTINGS, through).signals == []
    parked = parks(1, (200, 200), 0, 10**9)
    flaky = lambda ts: None if 30000 <= ts <= 37000 else parked(ts)  # noqa: E731
    assert park(SETTINGS, flaky).phases() == [Phase.START]


def test_anchor_point_of_the_vehicle() -> None:
    # The box centre (200, 245) is in the slot, its bottom edge 40 px below it.
    low = lambda ts: (1, "car", (160.0, 200.0, 240.0, 290.0))  # noqa: E731
    assert park({**SETTINGS, "occupy_s": 0}, low, end=3000).phases() == [Phase.START]
    bottom = {**SETTINGS, "occupy_s": 0, "anchor": "bottom_center"}
    assert park(bottom, low, end=3000).signals == []


def test_other_classes_do_not_occupy_slots() -> None:
    person = Path(1, "person", (200, 220))
    assert park({**SETTINGS, "occupy_s": 0}, person, end=5000).signals == []


def test_finish_ends_open_stays() -> None:
    module = build("parking", SETTINGS)
    result = run(module, scene(every(1000, 30000), parks(1, (350, 200), 0, 10**9)), finish=True)
    assert result.phases() == [Phase.START, Phase.END]
    assert result.ends()[0][1].zone == "A2"
    assert module.stats()["free"] == 2


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="slot names must be unique; repeated: A1"):
        camera({"parking": {"slots": [SLOTS[0], SLOTS[0]]}})
    with pytest.raises(ConfigError, match="at least 3 points"):
        camera({"parking": {"slots": [{"name": "x", "polygon": [[0, 0], [1, 1]]}]}})
    with pytest.raises(ConfigError, match=r"modules\.parking\.slots"):
        camera({"parking": {}})
