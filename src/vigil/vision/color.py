"""The dominant colour of an object, as a plain colour name (for captions and search)."""

from __future__ import annotations

import cv2
import numpy as np

# Hue sectors on OpenCV's 0-179 scale, checked in order; red wraps around 0.
_HUES: tuple[tuple[int, int, str], ...] = (
    (0, 8, "red"),
    (8, 22, "orange"),
    (22, 34, "yellow"),
    (34, 85, "green"),
    (85, 130, "blue"),
    (130, 160, "purple"),
    (160, 180, "red"),
)


def color_name(image_bgr: np.ndarray, box: tuple[float, float, float, float]) -> str | None:
    """Name of the most common colour in the central part of `box`, or None if too small.

    The central half is used because box edges are mostly background.
    """
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    left, right = int(x1 + w * 0.25), int(x2 - w * 0.25)
    top, bottom = int(y1 + h * 0.2), int(y2 - h * 0.3)
    crop = image_bgr[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)]
    if crop.shape[0] < 2 or crop.shape[1] < 2:
        return None
    crop = cv2.resize(crop, (16, 16), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int32)
    names = np.array([_pixel_name(h_, s, v) for h_, s, v in hsv])
    values, counts = np.unique(names, return_counts=True)
    return str(values[counts.argmax()])


def _pixel_name(hue: int, saturation: int, value: int) -> str:
    if value < 50:
        return "black"
    if saturation < 40:
        return "white" if value > 190 else "gray"
    # Orange and yellow hues: dark ones are brown, pale ones beige (a brown car is not orange).
    if 8 <= hue < 34 and saturation < 90:
        return "brown" if value < 140 else "beige"
    if 8 <= hue < 22 and value < 140:
        return "brown"
    for low, high, name in _HUES:
        if low <= hue < high:
            return name
    return "red"
