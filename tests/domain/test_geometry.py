"""Plane geometry of a camera view (vigil.domain.geometry): the ground calibration, polygon areas
and zone membership, the one test every module and the config use."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.modules.synth import FLAT, camera
from vigil.config import ConfigError, parse_camera
from vigil.domain.geometry import Homography, collinear_triple, points_in_polygon, polygon_area

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


WHOLE_FRAME = [(0, 0), (640, 0), (640, 480), (0, 480)]


def test_points_on_a_zone_edge_or_vertex_are_inside() -> None:
    # A detector clips boxes to the frame: someone at the bottom of the picture stands exactly
    # on the frame's edge, and a zone over the whole frame must hold them, on every side.
    on_edges = np.array([(320, 480), (640, 240), (320, 0), (0, 240), (640, 480), (0, 0)])
    assert points_in_polygon(on_edges, WHOLE_FRAME).all()
    # On a slanted edge too, and just beyond an edge is outside.
    triangle = [(0, 0), (100, 100), (0, 100)]
    assert points_in_polygon(np.array([(50, 50), (50.0001, 49.9999)]), triangle).tolist() == [
        True,
        False,
    ]
    beyond = np.array([(320, 480.01), (640.01, 240), (-0.01, 10)])
    assert not points_in_polygon(beyond, WHOLE_FRAME).any()
