"""Colour names of objects: obvious colours are named as a person would name them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.vision.footage import clip_frame
from vigil.vision.color import color_name

BOX = (60, 60, 260, 200)


def car(bgr: tuple[int, int, int], shaded: bool = True) -> np.ndarray:
    """A car seen from the side on a gray road: body in `bgr` (lit from above, darker low
    down), dark windows, black tyres; JPEG-compressed like a camera's picture."""
    image = np.full((240, 320, 3), 110, np.uint8)
    x1, y1, x2, y2 = BOX
    body = np.empty((y2 - y1, x2 - x1, 3), np.float32)
    body[:] = bgr
    if shaded:
        body *= np.linspace(1.1, 0.75, y2 - y1, dtype=np.float32)[:, None, None]
    image[y1:y2, x1:x2] = np.clip(body, 0, 255).astype(np.uint8)
    image[y1 + 10 : y1 + 50, x1 + 30 : x2 - 30] = (40, 45, 50)
    for x in (x1 + 40, x2 - 40):
        cv2.circle(image, (x, y2), 18, (20, 20, 20), -1)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


@pytest.mark.parametrize(
    ("bgr", "name"),
    [
        ((30, 30, 200), "red"),
        ((20, 20, 120), "red"),  # dark red
        ((235, 235, 235), "white"),
        ((25, 25, 25), "black"),
        ((170, 70, 20), "blue"),
        ((90, 35, 10), "blue"),  # navy
        ((230, 180, 120), "blue"),  # light blue
        ((170, 170, 170), "gray"),  # silver is named gray
        ((110, 110, 110), "gray"),
        ((20, 210, 230), "yellow"),
        ((40, 140, 40), "green"),
        ((0, 120, 250), "orange"),
        ((30, 60, 100), "brown"),
        ((150, 190, 210), "beige"),
        ((140, 40, 120), "purple"),
    ],
)
def test_obvious_car_colours(bgr: tuple[int, int, int], name: str) -> None:
    assert color_name(car(bgr), BOX) == name
    assert color_name(car(bgr, shaded=False), BOX) == name


def test_too_small_boxes_have_no_colour() -> None:
    assert color_name(car((30, 30, 200)), (10, 10, 12, 12)) is None


def test_vehicles_of_the_street_clip() -> None:
    frame = clip_frame(300)
    assert color_name(frame, (652, 45, 723, 100)) == "white"  # the parked van
    assert color_name(frame, (735, 52, 768, 100)) == "blue"  # the turquoise car beside it
