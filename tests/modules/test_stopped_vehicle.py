"""stopped_vehicle: a vehicle stationary in a zone for a duration."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.modules.synth import Obj, Path, Run, box_at, build, camera, every, run, scene
from vigil.config import ConfigError
from vigil.domain.events import Phase

PLAZA_ONLY = {"zones": ["plaza"], "duration_s": 60, "update_every_s": 30}


def stops(settings: dict[str, object], *objects: Path | Callable[[int], Obj | None]) -> Run:
    return run(build("stopped_vehicle", settings), scene(every(1000, 120000), *objects))


def parked(t_stop: int, t_leave: int, at: tuple[float, float] = (200, 200)) -> Callable[[int], Obj]:
    """A car that drives in from the left, stands at `at` from t_stop to t_leave, drives on."""

    def where(ts: int) -> Obj:
        if ts < t_stop:
            x = at[0] - 50 * (t_stop - ts) / 1000
        elif ts <= t_leave:
            x = at[0]
        else:
            x = at[0] + 50 * (ts - t_leave) / 1000
        return (1, "car", box_at(x, at[1], 60, 40))

    return where


def test_stopped_car_is_reported_after_the_duration_updated_and_ended_when_it_leaves() -> None:
    result = stops(PLAZA_ONLY, parked(5000, 100000))
    assert result.phases() == [Phase.START, Phase.UPDATE, Phase.END]
    (start_ts, start), (end_ts, end) = result.starts()[0], result.ends()[0]
    assert start_ts == 65000 and start.type == "vehicle.stopped" and start.zone == "plaza"
    assert start.class_name == "car" and start.dwell_s == pytest.approx(60.0)
    assert result.at(Phase.UPDATE)[0][0] == 95000
    assert end_ts == 101000 and end.attributes["reason"] == "moved"
    assert end.attributes["stopped_s"] == pytest.approx(95.0)  # 5 s … 100 s


def test_only_in_the_watched_zones() -> None:
    elsewhere = parked(5000, 10**9, at=(500, 400))
    assert stops(PLAZA_ONLY, elsewhere).signals == []
    anywhere = stops({"duration_s": 60}, elsewhere)
    ((_, start),) = anywhere.starts()
    assert start.zone is None


def test_a_creeping_vehicle_is_not_stationary() -> None:
    crawl = Path(1, "car", (150, 200), (0.5, 0), w=60, h=40)  # 30 px a minute: stop-and-go
    result = run(build("stopped_vehicle", PLAZA_ONLY), scene(every(1000, 90000), crawl))
    assert result.signals == []


def test_waiting_briefly_or_non_vehicles_are_ignored() -> None:
    brief = parked(5000, 40000)  # 35 s at a red light
    person = Path(2, "person", (150, 150))
    result = run(build("stopped_vehicle", PLAZA_ONLY), scene(every(1000, 90000), brief, person))
    assert result.signals == []


def test_occlusion_within_grace_continues_and_a_vanished_vehicle_ends() -> None:
    car = parked(0, 10**9)

    def occluded(ts: int) -> Obj | None:
        if 30000 <= ts <= 33000 or ts >= 80000:
            return None
        obj = car(ts)
        return (1 if ts < 30000 else 4, obj[1], obj[2])  # a new track id after the occlusion

    settings = {**PLAZA_ONLY, "grace_s": 5}
    result = run(build("stopped_vehicle", settings), scene(every(1000, 90000), occluded))
    assert [ts for ts, _ in result.starts()] == [60000]
    end_ts, end = result.ends()[0]
    assert end_ts == 85000 and end.attributes["reason"] == "gone"


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"modules\.stopped_vehicle: max_movement_m needs a gr"):
        camera({"stopped_vehicle": {"max_movement_m": 1}})
    with pytest.raises(ConfigError, match=r"modules\.stopped_vehicle\.duration_s"):
        camera({"stopped_vehicle": {"duration_s": 0}})
    camera({"stopped_vehicle": {"max_movement_m": 1}}, calibrated=True)


def test_class_flicker_does_not_restart_the_clock() -> None:
    van = parked(0, 10**9)

    def flickering(ts: int) -> Obj:
        track, _, box = van(ts)
        return (track, "car" if (ts // 1000) % 3 == 0 else "truck", box)  # a van: car or truck

    assert [ts for ts, _ in stops(PLAZA_ONLY, flickering).starts()] == [60000]
