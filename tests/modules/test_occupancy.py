"""occupancy: too many objects in a zone for too long."""

from __future__ import annotations

import pytest

from tests.modules.synth import Path, build, camera, every, run, scene
from vigil.config import ConfigError
from vigil.domain.events import Phase


def crowd(n: int, t0: int, t1: int, cls: str = "person", first_id: int = 1) -> list[Path]:
    """n objects standing in the plaza (100..300 × 100..300) from t0 to t1."""
    return [Path(first_id + i, cls, (120 + 15 * i, 250), t0=t0, t1=t1) for i in range(n)]


def test_starts_after_min_duration_updates_and_ends_after_clear() -> None:
    module = build(
        "occupancy",
        {"min_count": 5, "min_duration_s": 3, "clear_s": 2, "update_every_s": 2},
    )
    frames = scene(every(500, 15000), *crowd(6, 1000, 9000))
    result = run(module, frames)
    assert result.phases() == [Phase.START, Phase.UPDATE, Phase.UPDATE, Phase.UPDATE, Phase.END]
    (start_ts, start), (end_ts, end) = result.starts()[0], result.ends()[0]
    assert start_ts == 4000  # crowded since 1 s, for 3 s
    assert start.type == "occupancy.high" and start.zone == "plaza"
    assert start.track_id is None and start.class_name is None  # a scene event
    assert start.attributes["count"] == 6 and start.attributes["since_ms"] == 1000
    assert end_ts == 11500  # last crowded frame 9 s, + more than 2 s below
    assert end.attributes["duration_s"] == pytest.approx(8.0)
    assert end.attributes["peak"] == 6 and end.attributes["count"] == 0
    # Updates go on while it lasts, including the clearing time after the crowd thinned.
    updates = result.at(Phase.UPDATE)
    assert [(ts, s.attributes["count"]) for ts, s in updates] == [(6000, 6), (8000, 6), (10000, 0)]


def test_below_threshold_or_too_short_is_quiet() -> None:
    module = build("occupancy", {"min_count": 5, "min_duration_s": 3})
    assert run(module, scene(every(500, 10000), *crowd(4, 0, 10000))).signals == []
    module = build("occupancy", {"min_count": 5, "min_duration_s": 3, "clear_s": 1})
    assert run(module, scene(every(500, 10000), *crowd(5, 0, 2500))).signals == []


def test_short_dips_do_not_split_a_crowd() -> None:
    module = build(
        "occupancy", {"min_count": 5, "min_duration_s": 1, "clear_s": 2, "update_every_s": 60}
    )
    group = crowd(4, 0, 20000)
    flicker = Path(9, "person", (250, 200), t0=0, t1=20000)
    # The fifth person is missed by the detector for 1.5 s in the middle.
    missed = lambda ts: None if 8000 <= ts <= 9500 else flicker.at(ts)  # noqa: E731
    result = run(module, scene(every(500, 25000), *group, missed))
    assert result.phases() == [Phase.START, Phase.END]


def test_counts_only_the_configured_classes_in_the_zone() -> None:
    module = build("occupancy", {"min_count": 3, "min_duration_s": 0})
    outside = [Path(20 + i, "person", (500, 400)) for i in range(5)]
    cars = crowd(5, 0, 5000, cls="car", first_id=40)
    result = run(module, scene(every(1000, 5000), *outside, *cars))
    assert result.signals == []
    assert {value for _, value in result.metric("occupancy", "plaza")} == {0}
    module = build("occupancy", {"min_count": 3, "min_duration_s": 0, "classes": ["car"]})
    assert run(module, scene(every(1000, 5000), *cars)).phases() == [Phase.START]


def test_samples_occupancy_every_frame_and_density_only_with_calibration() -> None:
    frames = scene(every(1000, 3000), *crowd(2, 0, 3000))
    plain = run(build("occupancy", {}), frames)
    assert plain.metric("occupancy") == [(0, 2), (1000, 2), (2000, 2), (3000, 2)]
    assert plain.metric("density") == []
    calibrated = run(build("occupancy", {}, calibrated=True), frames)
    # The plaza is 200 × 200 px = 20 m × 20 m = 400 m² under the 10 px/m test calibration.
    density = calibrated.metric("density")
    assert density == [(ts, pytest.approx(2 / 400)) for ts in every(1000, 3000)]


def test_density_threshold_uses_the_zone_area() -> None:
    module = build(
        "occupancy", {"min_count": None, "min_density": 0.01, "min_duration_s": 0}, calibrated=True
    )
    below = run(module, scene(every(1000, 2000), *crowd(3, 0, 2000)))  # 3 / 400 m² = 0.0075
    assert below.signals == []
    result = run(module, scene(every(1000, 12000, 10000), *crowd(4, 10000, 12000)))
    ((_, start),) = result.starts()
    assert start.attributes["area_m2"] == pytest.approx(400)
    assert start.attributes["density"] == pytest.approx(0.01)


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="set min_count, min_density or both"):
        camera({"occupancy": {"min_count": None}})
    with pytest.raises(ConfigError, match=r"modules\.occupancy: min_density needs a ground cali"):
        camera({"occupancy": {"min_density": 2}})
    with pytest.raises(ConfigError, match=r"modules\.occupancy\.classes"):
        camera({"occupancy": {"classes": []}})
    with pytest.raises(ConfigError, match="nowhere not defined"):
        camera({"occupancy": {"zones": ["nowhere"]}})


def test_finish_ends_an_open_crowd() -> None:
    module = build("occupancy", {"min_count": 2, "min_duration_s": 0})
    result = run(module, scene(every(1000, 3000), *crowd(2, 0, 3000)), finish=True)
    assert result.phases() == [Phase.START, Phase.END]
