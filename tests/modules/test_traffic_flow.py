"""traffic_flow: counts per class per lane per minute, and mean speed."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.modules.synth import Path, Run, build, every, run, scene

# The camera's line "gate" is vertical at x = 400; an object going from x < 400 to x > 400
# crosses it "in" (see the line module). The zone "plaza" is x, y 100..300.


def flow(settings: dict[str, Any], *objects: Any, end: int = 130000, **options: Any) -> Run:
    return run(build("traffic_flow", settings, **options), scene(every(500, end), *objects))


def per_minute(result: Run, metric: str) -> dict[tuple[int, str | None, str | None], float]:
    """What the statistics series store: the per-minute sum of each lane's and class's samples."""
    sums: dict[tuple[int, str | None, str | None], float] = defaultdict(float)
    for ts, sample in result.samples:
        if sample.metric == metric:
            sums[(ts // 60000, sample.place, sample.class_name)] += sample.value
    return dict(sums)


def eastbound(track: int, cls: str, crossing_ms: int, speed: float = 100) -> Path:
    """Crosses the gate (x = 400) at `crossing_ms` + 1 ms, at `speed` px/s."""
    x0 = 400 - speed * (crossing_ms + 1) / 1000
    return Path(track, cls, (x0, 450), (speed, 0), w=40, h=30)


def test_counts_per_class_per_lane_per_minute_with_zeros_for_empty_minutes() -> None:
    traffic = [
        eastbound(1, "car", 10000),
        eastbound(2, "car", 20000),
        eastbound(3, "truck", 30000),
        eastbound(4, "car", 70000),
        eastbound(5, "person", 40000),  # not a vehicle: not counted by default
    ]
    result = flow({}, *traffic)
    assert result.signals == []  # statistics only
    counts = per_minute(result, "flow_count")
    assert counts[(0, "gate", "car")] == 2 and counts[(0, "gate", "truck")] == 1
    assert counts[(1, "gate", "car")] == 1 and counts[(1, "gate", "truck")] == 0
    assert counts[(2, "gate", "bus")] == 0  # every minute, lane and class gets a row
    assert not any(name == "person" for _, _, name in counts)
    module = build("traffic_flow", {})
    run(module, scene(every(500, 80000), *traffic))
    assert module.stats() == {"gate": {"car": 3, "truck": 1}}


def test_directions_can_be_counted_apart() -> None:
    westbound = Path(2, "car", (500, 450), (-100, 0), w=40, h=30)
    result = flow({"by_direction": True}, eastbound(1, "car", 500), westbound, end=5000)
    counts = per_minute(result, "flow_count")
    assert counts[(0, "gate/in", "car")] == 1 and counts[(0, "gate/out", "car")] == 1


def test_zones_count_entries_and_classes_can_be_chosen() -> None:
    pedestrians = [Path(i, "person", (50, 150 + 20 * i), (40, 0), t0=5000 * i) for i in range(3)]
    result = flow({"zones": ["plaza"], "classes": ["person"]}, *pedestrians, end=20000)
    assert per_minute(result, "flow_count") == {(0, "plaza", "person"): 3}


def test_mean_speed_per_minute_with_a_calibration() -> None:
    traffic = [eastbound(1, "car", 10000, speed=100), eastbound(2, "car", 20000, speed=200)]
    result = flow({}, *traffic, end=40000, calibrated=True)
    speeds = [s.value for _, s in result.samples if s.metric == "mean_speed_kmh"]
    # 10 px per metre: 100 px/s is 36 km/h, 200 px/s is 72 km/h; the minute's mean is 54.
    assert speeds == [pytest.approx(36.0), pytest.approx(72.0)]
    assert flow({}, *traffic, end=40000).metric("mean_speed_kmh") == []  # no calibration


def test_min_crossing_frames_ignores_a_box_jittering_on_the_line() -> None:
    def wobble(ts: int) -> tuple[int, str, tuple[float, float, float, float]]:
        x = 398 if (ts // 500) % 2 else 402
        return (1, "car", (x - 20, 420, x + 20, 450))

    jittery = flow({}, wobble, end=10000)
    assert per_minute(jittery, "flow_count")[(0, "gate", "car")] > 1  # box jitter is counted
    once = flow({"min_crossing_frames": 3}, wobble, end=10000)
    assert per_minute(once, "flow_count")[(0, "gate", "car")] == 0
