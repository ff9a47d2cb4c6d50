"""Cheap pixel views for modules that look at the image itself (motion, tampering, health).

Every such module works on one small grayscale copy of the frame, about 160 px wide: at that
size a whole-frame comparison costs microseconds, and the copy is made once per frame however
many modules ask for it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Annotated

import cv2
import numpy as np
from pydantic import Field

ANALYSIS_WIDTH = 160

Polygon = Sequence[tuple[float, float]]
# A polygon in a module's settings: vertices in pixels of the camera image.
PolygonPoints = Annotated[
    list[tuple[float, float]],
    Field(min_length=3, description="Vertices [x, y] in pixels of the camera image"),
]


class _Cache(threading.local):
    image: np.ndarray | None = None
    width: int = 0
    small: np.ndarray | None = None


_cache = _Cache()


def small_gray(image: np.ndarray, width: int = ANALYSIS_WIDTH) -> np.ndarray:
    """`image` (BGR or gray) as uint8 grayscale `width` pixels wide, aspect ratio kept.

    The result of the latest call per thread is reused while the same array is asked for
    again, so the modules of one camera share one downscale per frame. Treat it as read-only.
    """
    cache = _cache
    if cache.image is image and cache.width == width and cache.small is not None:
        return cache.small
    small = _downscale(image, width)
    small.flags.writeable = False
    # Holding a reference to `image` keeps its id from being reused while it is cached.
    cache.image, cache.width, cache.small = image, width, small
    return small


def _downscale(image: np.ndarray, width: int) -> np.ndarray:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    height_in, width_in = gray.shape[:2]
    height = max(1, round(height_in * width / width_in))
    # Area averaging by a whole factor first is several times faster than one fractional
    # INTER_AREA resize of the full frame, and just as clean (it averages the noise away).
    factor = width_in // width
    if factor >= 2:
        h, w = height_in // factor * factor, width_in // factor * factor
        gray = cv2.resize(gray[:h, :w], (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    if gray.shape[1] == width and gray.shape[0] == height:
        return np.ascontiguousarray(gray)
    return cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)


def polygon_mask(
    polygons: Sequence[Polygon], frame_shape: tuple[int, int], shape: tuple[int, int]
) -> np.ndarray:
    """Boolean mask of `shape` (height, width) covering `polygons` given in pixels of a frame
    of `frame_shape` (height, width)."""
    mask = np.zeros(shape, dtype=np.uint8)
    scale_x = shape[1] / frame_shape[1]
    scale_y = shape[0] / frame_shape[0]
    for polygon in polygons:
        points = np.array([(x * scale_x, y * scale_y) for x, y in polygon], dtype=np.float64)
        cv2.fillPoly(mask, [np.round(points).astype(np.int32).reshape(-1, 1, 2)], 1)
    return mask.astype(bool)


def box_overlaps_mask(
    box: Sequence[float], mask: np.ndarray, frame_shape: tuple[int, int], min_fraction: float
) -> bool:
    """True if at least `min_fraction` of `mask` lies inside `box` (frame pixels)."""
    scale_x = mask.shape[1] / frame_shape[1]
    scale_y = mask.shape[0] / frame_shape[0]
    x1, y1, x2, y2 = box
    left, right = max(0, int(x1 * scale_x)), min(mask.shape[1], int(np.ceil(x2 * scale_x)))
    top, bottom = max(0, int(y1 * scale_y)), min(mask.shape[0], int(np.ceil(y2 * scale_y)))
    if right <= left or bottom <= top:
        return False
    total = int(mask.sum())
    inside = int(mask[top:bottom, left:right].sum())
    return total > 0 and inside >= min_fraction * total


def cell_std(gray: np.ndarray, cell: int) -> np.ndarray:
    """Standard deviation of each `cell`×`cell` block (the border that does not fill a block
    is left out)."""
    rows, cols = gray.shape[0] // cell, gray.shape[1] // cell
    if rows == 0 or cols == 0:
        return np.array([[float(gray.std())]])
    blocks = gray[: rows * cell, : cols * cell].astype(np.float32)
    blocks = blocks.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, -1)
    return blocks.std(axis=2)
