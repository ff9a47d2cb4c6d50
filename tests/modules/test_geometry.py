"""Ground calibration, polygons and tracks over time (vigil.modules.geometry)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.modules.synth import FLAT, Path, box_at, camera, every, frame, scene
from vigil.config import ConfigError, parse_camera
from vigil.domain.events import Phase
from vigil.modules.geometry import (
    Hold,
    Homography,
    Motion,
    StationaryObjects,
    collinear_triple,
    points_in_polygon,
    polygon_area,
)

# A road seen in perspective: a 3.5 m × 20 m rectangle on the ground appears as a trapezoid.
ROAD_IMAGE = [(300, 200), (340, 200), (500, 470), (140, 470)]
ROAD_GROUND = [(0, 20), (3.5, 20), (3.5, 0), (0, 0)]


def test_homography_maps_the_calibration_points_both_ways() -> None:
    h = Homography(ROAD_IMAGE, ROAD_GROUND)
    assert h.to_ground(ROAD_IMAGE) == pytest.approx(np.array(ROAD_GROUND), abs=1e-6)
    assert h.to_image(ROAD_GROUND) == pytest.approx(np.array(ROAD_IMAGE, float), abs=1e-6)


def test_homography_keeps_straight_lines_and_foreshortens_depth() -> None:
    h = Homography(ROAD_IMAGE, ROAD_GROUND)
    # The lane's centre line in the image stays on x = 1.75 m on the ground.
    centre = h.to_ground([(320, 200), (320, 335), (320, 470)])
    assert centre[:, 0] == pytest.approx([1.75, 1.75, 1.75], abs=1e-6)
    # Halfway down the image is far less than halfway along the road: the near half of the
    # image shows the first metres, the far half the rest (perspective).
    assert centre[1, 1] < 5.0


def test_points_beyond_the_horizon_have_no_ground_position() -> None:
    h = Homography(ROAD_IMAGE, ROAD_GROUND)
    horizon_y = -h.matrix[2, 2] / h.matrix[2, 1]  # h31 = 0 for this symmetric trapezoid
    assert 0 < horizon_y < 200
    mapped = h.to_ground([(320, horizon_y - 20), (320, 300)])
    assert np.isnan(mapped[0]).all() and np.isfinite(mapped[1]).all()


def test_area_in_square_metres() -> None:
    h = Homography(ROAD_IMAGE, ROAD_GROUND)
    assert h.area_m2(ROAD_IMAGE) == pytest.approx(3.5 * 20)
    flat = Homography(FLAT["image_points"], FLAT["ground_points"])
    assert flat.area_m2([(100, 100), (300, 100), (300, 300), (100, 300)]) == pytest.approx(400)
    assert h.area_m2([(300, 0), (340, 0), (340, 300), (300, 300)]) is None  # above the horizon


def test_polygon_area_and_membership_match_opencv() -> None:
    polygon = [(0, 195), (560, 190), (768, 290), (768, 470), (430, 380), (250, 305), (0, 270)]
    contour = np.array(polygon, dtype=np.float32)
    assert polygon_area(polygon) == pytest.approx(cv2.contourArea(contour))
    points = np.random.default_rng(1).uniform(0, 768, size=(500, 2))
    ours = points_in_polygon(points, polygon)
    theirs = [cv2.pointPolygonTest(contour, (float(x), float(y)), True) for x, y in points]
    clear = np.abs(theirs) > 1e-6  # points exactly on an edge may go either way
    assert np.array_equal(ours[clear], (np.array(theirs) > 0)[clear])
    assert points_in_polygon(np.zeros((0, 2)), polygon).shape == (0,)


def test_collinear_triples_are_found() -> None:
    assert collinear_triple([(0, 0), (1, 1), (2, 2), (0, 5)]) == (1, 2, 3)
    assert collinear_triple([(0, 0), (0, 0), (3, 1), (0, 5)]) == (1, 2, 3)  # repeated point
    assert collinear_triple(ROAD_IMAGE) is None


def _camera(calibration: dict[str, object]) -> None:
    parse_camera({"id": "cam", "url": "clip.mp4", "calibration": calibration})


def test_calibration_config_is_validated_with_clear_messages() -> None:
    _camera({"image_points": ROAD_IMAGE, "ground_points": ROAD_GROUND})  # valid
    with pytest.raises(ConfigError, match=r"calibration.*image_points: exactly 4 points"):
        _camera({"image_points": ROAD_IMAGE[:3], "ground_points": ROAD_GROUND})
    with pytest.raises(ConfigError, match=r"ground_points: points 1, 2 and 3 lie on one line"):
        _camera({"image_points": ROAD_IMAGE, "ground_points": [(0, 0), (1, 0), (2, 0), (0, 1)]})
    swapped = [ROAD_GROUND[1], ROAD_GROUND[0], ROAD_GROUND[2], ROAD_GROUND[3]]
    with pytest.raises(ConfigError, match="same four points in the same order"):
        _camera({"image_points": ROAD_IMAGE, "ground_points": swapped})
    with pytest.raises(ConfigError, match="unknown key"):
        _camera({"image_points": ROAD_IMAGE, "ground_points": ROAD_GROUND, "scale": 2})


def test_camera_without_calibration_has_no_homography() -> None:
    assert Homography.of_camera(camera({})) is None
    assert Homography.of_camera(camera({}, calibrated=True)) is not None


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


def test_hold_needs_min_time_tolerates_short_dips_and_clears() -> None:
    hold = Hold(min_s=2, clear_s=1)
    steps = [
        (0, True),
        (1000, True),
        (1500, False),
        (2000, True),
        (2500, False),
        (3000, False),
        (3600, False),
        (4000, True),
    ]
    phases = [hold.step(ts, holds) for ts, holds in steps]
    assert phases == [None, None, None, Phase.START, None, None, Phase.END, None]
    assert hold.ended == (0, 2000)
    assert hold.since_ms == 4000  # a new episode is pending


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
