"""JPEG bytes to a BGR image."""

from __future__ import annotations

import cv2
import numpy as np

from vigil.sources.base import NOT_A_VIDEO_STREAM, SourceError


def decode_jpeg(data: bytes, what: str) -> np.ndarray:
    """Decodes one JPEG (or any image OpenCV reads) sent by `what`; SourceError if it can't."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(
            f"{what} sent {len(data)} bytes that are not a decodable image", NOT_A_VIDEO_STREAM
        )
    return image
