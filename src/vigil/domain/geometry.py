"""Plane geometry of a camera view: the ground calibration (image ↔ metres), polygons (zones,
masks) and which points lie in them.

It sits on the bottom floor so that the settings (config) can validate a calibration and the
modules, privacy masks and UI-facing code can test zone membership with the same function;
nothing here knows about tracks, settings or I/O. Positions are numpy arrays (N×2) of all of a
frame's points at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

Points = Sequence[tuple[float, float]]
MS_TO_KMH = 3.6  # metres per second → kilometres per hour
# A point this close to a polygon's edge (in its units, pixels for zones) is on the edge.
EDGE_TOLERANCE = 1e-6


class Calibration(Protocol):
    """Four point pairs on the ground: in the image (pixels) and on a map (metres)."""

    @property
    def image_points(self) -> Points: ...

    @property
    def ground_points(self) -> Points: ...


class Calibrated(Protocol):
    """A camera that may have a ground calibration (`config.CameraConfig` is one)."""

    @property
    def calibration(self) -> Calibration | None: ...


def collinear_triple(points: Points) -> tuple[int, int, int] | None:
    """The first three points (1-based) that lie on one line, or None.

    "On one line" means the triangle's smallest angle at the first point is under ~0.06°, which
    also catches repeated points: a homography from such points is numerically meaningless.
    """
    array = np.asarray(points, dtype=np.float64)
    for i in range(len(array)):
        for j in range(i + 1, len(array)):
            for k in range(j + 1, len(array)):
                ab, ac = array[j] - array[i], array[k] - array[i]
                scale = float(np.linalg.norm(ab) * np.linalg.norm(ac))
                cross = abs(float(ab[0] * ac[1] - ab[1] * ac[0]))
                if scale == 0.0 or cross <= 1e-3 * scale:
                    return i + 1, j + 1, k + 1
    return None


class Homography:
    """The mapping between image pixels and the ground plane (metres) given by four point pairs.

    `cv2.getPerspectiveTransform` solves the 8 unknowns exactly from the 4 pairs. Image points
    on or above the horizon (where the projective denominator changes sign) have no ground
    position; they map to NaN rather than to a mirrored point behind the camera.
    """

    def __init__(self, image_points: Points, ground_points: Points) -> None:
        image = np.asarray(image_points, dtype=np.float32).reshape(4, 2)
        ground = np.asarray(ground_points, dtype=np.float32).reshape(4, 2)
        self.matrix = cv2.getPerspectiveTransform(image, ground).astype(np.float64)
        self.inverse = np.linalg.inv(self.matrix)
        # The sign of the denominator at the calibration points is "in front of the camera".
        self._front = float(np.sign(self._denominator(image.astype(np.float64))[0]))

    @classmethod
    def from_config(cls, calibration: Calibration) -> Homography:
        return cls(calibration.image_points, calibration.ground_points)

    @classmethod
    def of_camera(cls, camera: Calibrated) -> Homography | None:
        return cls.from_config(camera.calibration) if camera.calibration is not None else None

    def _denominator(self, points: np.ndarray) -> np.ndarray:
        row = self.matrix[2]
        return np.asarray(points[:, 0] * row[0] + points[:, 1] * row[1] + row[2])

    def folds(self, image_points: Points) -> bool:
        """True when the horizon crosses these points: the four pairs are not listed in the
        same order, or the polygon reaches above the horizon."""
        array = np.asarray(image_points, dtype=np.float64).reshape(-1, 2)
        signs = np.sign(self._denominator(array))
        return bool(np.any(signs != signs[0]))

    def to_ground(self, points: np.ndarray | Points) -> np.ndarray:
        """Image pixels (N×2) → ground metres (N×2); NaN for points beyond the horizon."""
        array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        homogeneous = np.c_[array, np.ones(len(array))] @ self.matrix.T
        w = homogeneous[:, 2]
        valid = np.sign(w) == self._front
        out = np.full((len(array), 2), np.nan)
        out[valid] = homogeneous[valid, :2] / w[valid, None]
        return out

    def to_image(self, points: np.ndarray | Points) -> np.ndarray:
        """Ground metres (N×2) → image pixels (N×2)."""
        array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        homogeneous = np.c_[array, np.ones(len(array))] @ self.inverse.T
        return np.asarray(homogeneous[:, :2] / homogeneous[:, 2:3])

    def area_m2(self, polygon: Points) -> float | None:
        """Ground area of an image polygon in m², or None when it reaches beyond the horizon.

        Straight edges stay straight under a homography, so mapping the vertices is exact."""
        if self.folds(polygon):
            return None
        return polygon_area(self.to_ground(polygon))


def check_calibration(image_points: Points, ground_points: Points) -> None:
    """Raise ValueError with a message for the person who wrote the calibration."""
    for name, points in (("image_points", image_points), ("ground_points", ground_points)):
        if len(points) != 4:
            raise ValueError(f"{name}: exactly 4 points are needed, got {len(points)}")
        triple = collinear_triple(points)
        if triple is not None:
            raise ValueError(
                f"{name}: points {triple[0]}, {triple[1]} and {triple[2]} lie on one line (or "
                "repeat); choose four ground points with no three in a row, e.g. the corners "
                "of a marked rectangle"
            )
    homography = Homography(image_points, ground_points)
    if not np.all(np.isfinite(homography.matrix)) or abs(np.linalg.det(homography.matrix)) < 1e-12:
        raise ValueError("image_points → ground_points gives no invertible homography")
    if homography.folds(image_points):
        raise ValueError(
            "image_points and ground_points do not list the same four points in the same order "
            "(the mapping folds the quadrilateral through the horizon)"
        )


# ---------------------------------------------------------------- polygons and positions


def polygon_area(vertices: np.ndarray | Points) -> float:
    """Area of a simple polygon (shoelace formula), in the square of its units."""
    array = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
    x, y = array[:, 0], array[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def points_in_polygon(points: np.ndarray, polygon: Points) -> np.ndarray:
    """Boolean mask of the points (N×2) inside the closed polygon: even-odd rule, all points
    and edges at once (N×E), no per-point Python loop.

    Points on an edge or a vertex are inside. A box the detector clipped to the frame stands
    exactly on the frame's edge, and a zone drawn over the whole frame must contain it (an
    even-odd test alone calls the bottom and right edges outside, the top and left inside).
    """
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    vertices = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if not len(array):
        return np.zeros(0, dtype=bool)
    x, y = array[:, 0:1], array[:, 1:2]
    x1, y1 = vertices[:, 0], vertices[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    straddles = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    crossings = np.count_nonzero(straddles & (x < x_cross), axis=1)
    # On an edge: (nearly) zero cross product with the edge, and within the edge's box.
    length = np.hypot(x2 - x1, y2 - y1)
    cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
    within = (
        (x >= np.minimum(x1, x2) - EDGE_TOLERANCE)
        & (x <= np.maximum(x1, x2) + EDGE_TOLERANCE)
        & (y >= np.minimum(y1, y2) - EDGE_TOLERANCE)
        & (y <= np.maximum(y1, y2) + EDGE_TOLERANCE)
    )
    on_edge = np.any((np.abs(cross) <= EDGE_TOLERANCE * np.maximum(length, 1.0)) & within, axis=1)
    return np.asarray((crossings % 2 == 1) | on_edge)


def unit_vector(dx: float, dy: float) -> np.ndarray:
    vector = np.array([dx, dy], dtype=np.float64)
    return vector / float(np.linalg.norm(vector))
