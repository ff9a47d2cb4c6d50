"""A still image file served as a camera (tests feed a face photo this way)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vigil.sources.base import NOT_A_VIDEO_STREAM, RawFrame, SourceError, SourceOptions


class StillImageSource:
    """Repeats one image at the analysis rate (or delivers it once when not looping).

    Its frames carry media times 0, 1/fps, 2/fps…, so the reader paces it like a file.
    """

    live = False

    def __init__(self, path: Path, options: SourceOptions) -> None:
        self._path = path
        self._options = options
        self._image: np.ndarray | None = None
        self._count = 0

    @property
    def nominal_fps(self) -> float | None:
        return self._options.analysis_fps

    def open(self) -> None:
        if not self._path.is_file():
            raise SourceError(f"cannot open {self._path}: no such file")
        image = cv2.imread(str(self._path), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceError(f"cannot open {self._path}: not a readable image", NOT_A_VIDEO_STREAM)
        self._image = image
        self._count = 0

    def read(self) -> RawFrame | None:
        image = self._image
        if image is None:
            raise SourceError(f"{self._path} was read before it was opened")
        if self._count > 0 and not self._options.loop:
            return None
        pts_s = self._count / self._options.analysis_fps
        self._count += 1
        # A copy per frame: later stages (face blurring) may draw on the array in place.
        return RawFrame(pts_s=pts_s, to_bgr=image.copy)

    def close(self) -> None:
        self._image = None
