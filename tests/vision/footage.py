"""Frames for pixel-level module tests: the bundled street clip, and synthetic scenes.

Faults are synthesised from real frames (black frames, blur, shifts, repeats), so the tests
exercise the modules on real textures and compression noise with a known ground truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import av
import cv2
import numpy as np
import supervision as sv

from tests.media import CLIP
from vigil.modules.base import Tracks

CLIP_FPS = 10
BASE_MS = 1_795_000_000_000


def clip_frames(step: int = 2, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
    """Every `step`-th frame of the clip (10 fps), from frame `start` to `stop`."""
    with av.open(str(CLIP)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if stop is not None and index >= stop:
                return
            if index >= start and (index - start) % step == 0:
                yield frame.to_ndarray(format="bgr24")


@lru_cache(maxsize=4)
def clip_frame(index: int) -> np.ndarray:
    """One frame of the clip (read-only: copy before drawing on it)."""
    image = next(clip_frames(1, index, index + 1))
    image.flags.writeable = False
    return image


def empty_detections() -> sv.Detections:
    empty = sv.Detections.empty()
    empty.tracker_id = np.zeros(0, dtype=int)
    empty.data["class_name"] = np.zeros(0, dtype=str)
    return empty


def frame_view(ts_ms: int, image: np.ndarray, detections: sv.Detections | None = None) -> Tracks:
    """A module's view of one frame: the image and (by default) no tracks."""
    return Tracks(
        "cam", ts_ms, detections if detections is not None else empty_detections(),
        (int(image.shape[0]), int(image.shape[1])), image,
    )


def textured_scene(seed: int = 1, shape: tuple[int, int] = (480, 640)) -> np.ndarray:
    """A synthetic, structured scene: rectangles, lines and circles on a gradient."""
    rng = np.random.default_rng(seed)
    height, width = shape
    ramp = np.linspace(60, 160, width, dtype=np.float32)
    image = np.dstack([np.tile(ramp, (height, 1))] * 3).astype(np.uint8)
    for _ in range(40):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(15, 90)), int(rng.integers(15, 90))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.rectangle(image, (x, y), (x + w, y + h), colour, -1)
    for _ in range(25):
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(image, p1, p2, tuple(int(c) for c in rng.integers(0, 255, 3)), 2)
    return image


def noisy(image: np.ndarray, seed: int) -> np.ndarray:
    """The image with sensor-like noise (σ about 2 gray levels): no two frames of a live camera
    are identical. Sixteen noise fields are drawn once and used in turn, so consecutive seeds
    always differ."""
    noise = _noise_fields(image.shape)[seed % 16]
    return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)


@lru_cache(maxsize=4)
def _noise_fields(shape: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    # uniform over -3..3: σ = 2, and far cheaper to draw than a normal distribution
    return [rng.integers(-3, 4, shape, dtype=np.int16) for _ in range(16)]


def shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """The view of a camera panned/tilted by (dx, dy) pixels (edges reflected)."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(
        image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT
    )


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    centre = (image.shape[1] / 2, image.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return cv2.warpAffine(
        image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT
    )
