"""Ground calibration, polygons and tracks over time (vigil.modules.geometry)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.modules.synth import FLAT, Path, box_at, every, frame, scene
from vigil.domain.geometry import Homography
from vigil.modules.geometry import Motion, StationaryObjects


def test_motion_speed_is_smoothed_over_the_window() -> None:
    motion = Motion(1.0, Homography(FLAT["image_points"], FLAT["ground_points"]))
    rng = np.random.default_rng(0)
    speeds = []
    for ts in every(200, 4000):
        jitter = rng.uniform(-2, 2, size=2)  # box jitter of a few pixels
        x = 100 + 50 * ts / 1000 + jitter[0]  # 50 px/s = 5 m/s
        motion.update(frame(ts, (1, "car", box_at(x, 200 + jitter[1]))).detections, ts)
        speeds.append(motion.speed(1, ground=True))
    assert speeds[:2] == [None, None]  # under half a window of history
    assert all(s == pytest.approx(5.0, abs=0.5) for s in speeds[5:])


def test_motion_speed_in_box_heights_does_not_depend_on_distance() -> None:
    motion = Motion(1.0)
    frames = scene(
        every(200, 2000),
        Path(1, "person", (100, 400), (120, 0), h=120),  # near: 1 height per second
        Path(2, "person", (100, 100), (30, 0), h=30),  # far: also 1 height per second
    )
    for tracks in frames:
        motion.update(tracks.detections, tracks.ts_ms)
    assert motion.speed_in_heights(1) == pytest.approx(1.0, rel=0.02)
    assert motion.speed_in_heights(2) == pytest.approx(1.0, rel=0.02)


def test_stationary_objects_follow_place_not_track_id() -> None:
    objects = StationaryObjects(["backpack"], max_movement=10, grace_s=3)
    bag = box_at(200, 300, 20, 20)

    def step(ts: int, *objs: tuple[int, str, tuple[float, float, float, float]]):
        tracks = frame(ts, *objs)
        return objects.update(tracks.detections, tracks.class_names(), ts)

    step(0, (1, "backpack", bag))
    (first,) = objects.objects.values()
    step(1000)  # dropout
    moved, gone = step(2000, (7, "backpack", box_at(203, 301, 20, 20)))  # new id, same place
    assert (moved, gone) == ([], [])
    assert list(objects.objects.values()) == [first] and first.since_ms == 0
    assert first.track_id == 7
    moved, _ = step(3000, (7, "backpack", box_at(260, 301, 20, 20)))  # carried away
    assert moved == [first]
    (second,) = objects.objects.values()
    assert second.since_ms == 3000
    _, gone = step(6100)
    assert gone == [second]
