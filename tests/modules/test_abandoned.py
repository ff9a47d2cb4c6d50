"""abandoned: a bag stationary with nobody near it for a duration."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.modules.synth import Obj, Path, box_at, build, camera, every, run, scene
from vigil.config import ConfigError
from vigil.domain.events import Phase

SETTINGS = {"duration_s": 10, "attended_distance_px": 150, "grace_s": 5}
OWNER = Path(1, "person", (100, 400), (42, 0))  # drops the bag at (310, 400) at 5 s, walks on


def bag(
    put_down_ms: int = 5000,
    gone_ms: int = 10**9,
    track: Callable[[int], int] = lambda ts: 2,
    missing: tuple[int, int] = (0, -1),
    cls: str = "backpack",
) -> Callable[[int], Obj | None]:
    """Carried by OWNER until `put_down_ms`, then lying at (300, 400) until `gone_ms`."""

    def at(ts: int) -> Obj | None:
        if ts >= gone_ms or missing[0] <= ts <= missing[1]:
            return None
        x = 100 + 42 * min(ts, put_down_ms) / 1000 - 10
        return (track(ts), cls, box_at(x, 400, 20, 20))

    return at


def test_left_bag_is_reported_once_unattended_for_the_duration() -> None:
    result = run(build("abandoned", SETTINGS), scene(every(500, 25000), OWNER, bag()))
    ((start_ts, start),) = result.starts()
    # The owner walks out of 150 px at 8.5 s; ten seconds later the bag is abandoned.
    assert start_ts == 18500
    assert start.type == "abandoned.object" and start.class_name == "backpack"
    assert start.track_id == 2 and start.box == box_at(300, 400, 20, 20)
    assert start.attributes["unattended_s"] == pytest.approx(10.0)
    assert start.attributes["stationary_s"] == pytest.approx(13.5)
    assert result.ends() == []


def test_someone_coming_back_to_the_bag_ends_the_event() -> None:
    returner = Path(3, "person", (700, 400), (-40, 0), t0=20000)  # reaches 450 px at 26.25 s
    result = run(build("abandoned", SETTINGS), scene(every(500, 30000), OWNER, bag(), returner))
    assert result.phases() == [Phase.START, Phase.END]
    end_ts, end = result.ends()[0]
    assert end_ts == 26500 and end.attributes["reason"] == "attended"


def test_a_bag_with_its_owner_next_to_it_is_not_abandoned() -> None:
    sitter = Path(1, "person", (120, 400))
    lying = bag(put_down_ms=0)  # at (90, 400)
    assert run(build("abandoned", SETTINGS), scene(every(1000, 60000), sitter, lying)).signals == []


def test_taken_away_ends_after_the_grace() -> None:
    result = run(build("abandoned", SETTINGS), scene(every(500, 40000), OWNER, bag(gone_ms=25000)))
    end_ts, end = result.ends()[0]
    assert end.attributes["reason"] == "removed"
    assert end_ts == 30000  # last seen 24.5 s, unseen for more than 5 s


def test_detector_dropout_and_new_track_id_do_not_restart_the_clock() -> None:
    flaky = bag(missing=(12000, 15000), track=lambda ts: 2 if ts < 12000 else 9)
    result = run(build("abandoned", SETTINGS), scene(every(500, 25000), OWNER, flaky))
    ((start_ts, start),) = result.starts()
    assert start_ts == 18500 and start.track_id == 9
    assert result.ends() == []
    # Unseen for longer than the grace: a new object when it reappears, with a fresh clock.
    lost = bag(missing=(12000, 18000), track=lambda ts: 2 if ts < 12000 else 9)
    result = run(build("abandoned", SETTINGS), scene(every(500, 25000), OWNER, lost))
    assert result.starts() == []


def test_a_bag_that_is_moved_is_no_longer_the_same_stationary_object() -> None:
    def kicked(ts: int) -> Obj | None:
        x = 300 if ts < 22000 else 340
        return (2, "suitcase", box_at(x, 400, 20, 20))

    result = run(
        build("abandoned", {**SETTINGS, "max_movement_px": 15}), scene(every(500, 40000), kicked)
    )
    assert [ts for ts, _ in result.starts()] == [10000, 32000]
    assert result.ends()[0][1].attributes["reason"] == "moved"


def test_only_the_configured_classes() -> None:
    standing = Path(5, "person", (300, 400))
    car = Path(6, "car", (500, 300))
    assert run(build("abandoned", SETTINGS), scene(every(1000, 30000), standing, car)).signals == []
    handbag = bag(put_down_ms=0, cls="handbag")
    settings = {**SETTINGS, "classes": ["backpack"]}
    assert run(build("abandoned", settings), scene(every(1000, 30000), handbag)).signals == []


def test_zones_restrict_where_objects_are_watched() -> None:
    settings = {**SETTINGS, "zones": ["plaza"]}
    outside = bag(put_down_ms=0)  # at (90, 400): outside the plaza
    assert run(build("abandoned", settings), scene(every(1000, 30000), outside)).signals == []
    inside = Path(2, "backpack", (200, 200), w=20, h=20)
    assert run(build("abandoned", settings), scene(every(1000, 30000), inside)).phases() == [
        Phase.START
    ]


def test_distances_in_metres_need_a_calibration() -> None:
    with pytest.raises(ConfigError, match=r"modules\.abandoned: attended_distance_m needs a gro"):
        camera({"abandoned": {"attended_distance_m": 3}})
    # 10 px per metre: the owner at 42 px/s is over 5 m (50 px) from the bag from 6 s on.
    module = build("abandoned", {**SETTINGS, "attended_distance_m": 5}, calibrated=True)
    result = run(module, scene(every(500, 25000), OWNER, bag()))
    assert [ts for ts, _ in result.starts()] == [16000]


def test_finish_ends_open_events() -> None:
    result = run(build("abandoned", SETTINGS), scene(every(500, 20000), OWNER, bag()), finish=True)
    assert result.phases() == [Phase.START, Phase.END]
    assert result.ends()[0][1].attributes["reason"] == "stopped"
