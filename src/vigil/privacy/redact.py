"""Irreversible face redaction, applied before any image is stored or served."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from vigil.vision.faces import FaceDetector

# Boxes from CenterFace hug the face; hair, ears and chin identify too, so grow them.
_MARGIN = 0.5
# Pixelation throws the detail away for good; the blur afterwards removes the block edges that
# a detector (or a person) could still read as a face shape. Finer mosaics (6×6 and up) leave a
# head-shaped blob that CenterFace still scores as a face.
BLOCKS = 3
# After redacting, the redacted neighbourhoods are checked again and whatever still looks like a
# face there is redacted too; this many checks at most. Only those neighbourhoods changed, so only
# they are searched: a whole-frame pass would cost as much as the first one.
_CHECKS = 2
_CHECK_CONTEXT = 1.5  # neighbourhood: the face box grown by this many face sizes on each side


def redact_regions(image: np.ndarray, boxes: np.ndarray, *, solid: bool = False) -> int:
    """Pixelate then blur each box of `image` in place; returns how many regions were redacted.
    `solid` fills each box with its mean colour instead: for pictures encoded again afterwards
    (recordings), where coding noise can turn a small pixelated face back into one a detector
    finds."""
    height, width = image.shape[:2]
    for left, top, right, bottom in regions(boxes, width, height):
        region = image[top:bottom, left:right]
        if solid:
            region[:] = region.reshape(-1, region.shape[-1]).mean(axis=0).astype(image.dtype)
            continue
        small = cv2.resize(region, (BLOCKS, BLOCKS), interpolation=cv2.INTER_AREA)
        coarse = cv2.resize(small, (right - left, bottom - top), interpolation=cv2.INTER_NEAREST)
        region[:] = cv2.GaussianBlur(coarse, (blur_kernel(right - left, bottom - top),) * 2, 0)
    return len(boxes)


def regions(boxes: np.ndarray, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The areas redacted for face `boxes`: each box grown by the margin, clipped to the image,
    as left, top, right, bottom; shared with the device path (redact_tensor)."""
    found = []
    for x1, y1, x2, y2 in boxes[:, :4]:
        grow_w, grow_h = (x2 - x1) * _MARGIN, (y2 - y1) * _MARGIN
        left, top = max(0, int(x1 - grow_w)), max(0, int(y1 - grow_h))
        right, bottom = min(width, int(x2 + grow_w) + 1), min(height, int(y2 + grow_h) + 1)
        if right - left >= 2 and bottom - top >= 2:
            found.append((left, top, right, bottom))
    return found


def blur_kernel(width: int, height: int) -> int:
    """Side of the Gaussian kernel that smooths a pixelated region of this size."""
    return max(3, (min(width, height) // 2) | 1)


class FaceRedactor:
    """Finds faces with CenterFace and destroys them. The only use Vigil makes of faces."""

    def __init__(self, detector: FaceDetector) -> None:
        self.detector = detector

    def redact(self, image_bgr: np.ndarray) -> np.ndarray:
        """A copy of the image with every detected face pixelated and blurred."""
        out = image_bgr.copy()
        redact_faces(out, self.detector)
        return out


def redact_faces(image: np.ndarray, detector: FaceDetector, *, solid: bool = False) -> int:
    """Redact faces in place until the detector finds none (or the checks run out)."""
    return redact_until_clean(
        image, detector.detect, lambda faces: redact_regions(image, faces, solid=solid)
    )


def redact_until_clean(
    image: Any, detect: Callable[[Any], np.ndarray], redact: Callable[[np.ndarray], int]
) -> int:
    """Detect, redact, and look again around what was redacted, for host arrays and device
    tensors alike (H×W×3; `detect` and `redact` work on the same kind)."""
    total = 0
    faces = detect(image)
    for _ in range(_CHECKS + 1):
        if not len(faces):
            break
        total += redact(faces)
        faces = _look_again(image, faces, detect)
    return total


def _look_again(
    image: Any, redacted: np.ndarray, detect: Callable[[Any], np.ndarray]
) -> np.ndarray:
    """Faces the detector still finds around regions just redacted, in image pixels."""
    height, width = image.shape[:2]
    found = [np.zeros((0, 5), dtype=np.float32)]
    for x1, y1, x2, y2 in redacted[:, :4]:
        grow = max(x2 - x1, y2 - y1) * _CHECK_CONTEXT + 16
        left, top = max(0, int(x1 - grow)), max(0, int(y1 - grow))
        right, bottom = min(width, int(x2 + grow)), min(height, int(y2 + grow))
        boxes = detect(image[top:bottom, left:right])
        boxes[:, [0, 2]] += left
        boxes[:, [1, 3]] += top
        found.append(boxes)
    return np.concatenate(found)
