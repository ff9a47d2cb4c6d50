"""Frame supplies for the many-camera benchmark: each camera's next image, on demand.

`SyntheticFeed` hands out copies of frames decoded once (the copy stands for the new buffer a
decoder fills), so the scheduler, detector and tracking can be measured without a video decoder.
`SourceFeed` reads a real FrameSource (CPU or hardware decode), so decoding is measured too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import av
import cv2
import numpy as np

from vigil.domain.frames import Pixels
from vigil.sources.base import FrameSource, SourceError


class Feed(Protocol):
    def next_image(self) -> Pixels:
        """The camera's next frame, H×W×3 uint8 BGR (on the GPU from hardware decoding);
        SourceError if it cannot be had."""
        ...

    def close(self) -> None: ...


def decode_clip(video: Path, size: tuple[int, int], limit: int = 100) -> list[np.ndarray]:
    """Up to `limit` frames of `video`, resized to `size` (width, height), BGR."""
    frames: list[np.ndarray] = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            frames.append(cv2.resize(frame.to_ndarray(format="bgr24"), size))
            if len(frames) >= limit:
                break
    if not frames:
        raise SourceError(f"{video} contains no decodable video frames")
    return frames


class SyntheticFeed:
    """Cycles through shared frames from its own starting point (cameras are not in step)."""

    def __init__(self, frames: list[np.ndarray], start: int) -> None:
        self._frames = frames
        self._next = start % len(frames)

    def next_image(self) -> np.ndarray:
        image = self._frames[self._next].copy()
        self._next = (self._next + 1) % len(self._frames)
        return image

    def close(self) -> None:
        return None


class SourceFeed:
    """One frame per call from a looping FrameSource, decoded in the caller's thread."""

    def __init__(self, source: FrameSource) -> None:
        self._source = source
        self._opened = False

    def next_image(self) -> Pixels:
        if not self._opened:
            self._source.open()
            self._opened = True
        raw = self._source.read()
        if raw is None:
            raise SourceError("the source ended although it was asked to loop")
        return raw.pixels()

    def close(self) -> None:
        self._source.close()
