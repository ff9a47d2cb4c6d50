"""Per-camera detector settings on one shared batch: input size, classes, threshold, tiles.

Cameras differ: a wide 4K street needs tiles or a larger input, a loading dock wants only
vehicles, a noisy scene a higher threshold. One batch still serves them all: frames (and tiles)
are grouped by the network input they need, each group goes through one call, and each camera's
classes and threshold are applied to its own results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import supervision as sv

from vigil.config import CameraDetectorConfig, DetectorConfig
from vigil.domain.frames import Frame
from vigil.vision.detector import Detector, ModelError
from vigil.vision.tiles import Window, merge_tiles, tile_windows
from vigil.vision.torch_detector import TorchDetector

Variant = Callable[[DetectorConfig], Detector]
_Key = tuple[int, float]  # input size, score threshold of the network's own decoding


@dataclass(frozen=True, slots=True)
class _Piece:
    frame: int  # index in the batch
    window: Window
    key: _Key


class DetectorRouter:
    """Runs a batch of frames, each with its camera's settings (None: the worker's defaults).

    `variant` makes a detector for other settings (another input size, a lower threshold); it
    is needed only when a camera asks for one, and each variant is made once.
    """

    def __init__(self, base: Detector, config: DetectorConfig, variant: Variant | None) -> None:
        self.config = config
        self.labels = base.labels
        # The torch detector letterboxes frames on the device they are on: frames decoded
        # into GPU memory go to it as they are, with no round trip through host memory.
        self.takes_device_images = isinstance(base, TorchDetector)
        self._variant = variant
        self._detectors: dict[_Key, Detector] = {self._key(None): base}

    def check(self, settings: CameraDetectorConfig | None) -> None:
        """Raise ModelError now, not at the first frame, if a camera's settings cannot work."""
        if settings is None:
            return
        unknown = set(settings.classes or ()) - set(self.labels)
        if unknown:
            raise ModelError(
                f"cameras[].detector.classes: the model has no class {', '.join(sorted(unknown))}"
            )
        self._detector(self._key(settings))

    def image_of(self, frame: Frame) -> Any:
        return detector_input(frame, self.takes_device_images)

    def detect(
        self, images: Sequence[Any], settings: list[CameraDetectorConfig | None]
    ) -> list[sv.Detections]:
        """`images`: host arrays, or (see `image_of`) device tensors; tiles are cut from
        either alike."""
        if all(camera is None for camera in settings):  # the common case: one plain call
            return self._detectors[self._key(None)].detect(list(images))
        pieces = [
            _Piece(i, window, self._key(camera))
            for i, (image, camera) in enumerate(zip(images, settings, strict=True))
            for window in _windows(image, camera)
        ]
        by_key: dict[_Key, list[int]] = {}
        for n, piece in enumerate(pieces):
            by_key.setdefault(piece.key, []).append(n)
        found: list[sv.Detections] = [sv.Detections.empty()] * len(pieces)
        for key, chosen in by_key.items():
            crops = [_crop(images[pieces[n].frame], pieces[n].window) for n in chosen]
            for n, detections in zip(chosen, self._detector(key).detect(crops), strict=True):
                found[n] = detections
        parts: list[list[tuple[sv.Detections, Window]]] = [[] for _ in images]
        for n, piece in enumerate(pieces):
            parts[piece.frame].append((found[n], piece.window))
        return [
            _filter(own[0][0] if len(own) == 1 else merge_tiles(own, self.config.nms_iou), camera)
            for own, camera in zip(parts, settings, strict=True)
        ]

    def _key(self, settings: CameraDetectorConfig | None) -> _Key:
        size = (settings.input_size if settings else None) or self.config.input_size
        threshold = self.config.score_threshold
        if settings is not None and settings.score_threshold is not None:
            # A higher threshold is a filter on the shared results; only a lower one needs
            # the network's own decoding to keep more.
            threshold = min(threshold, settings.score_threshold)
        return size, threshold

    def _detector(self, key: _Key) -> Detector:
        detector = self._detectors.get(key)
        if detector is None:
            if self._variant is None:
                raise ModelError(
                    "cameras[].detector: this detector cannot run at another input size or a "
                    "lower score threshold than the worker's"
                )
            size, threshold = key
            variant = self.config.model_copy(
                update={"input_size": size, "score_threshold": threshold}
            )
            detector = self._variant(variant)
            # A model with a fixed input size fails at another only when run: find out now,
            # with one blank frame, rather than fail every batch this camera's frames are in.
            try:
                detector.detect([np.zeros((size, size, 3), dtype=np.uint8)])
            except Exception as error:  # onnxruntime raises several unrelated types
                raise ModelError(
                    f"cameras[].detector.input_size: the model cannot run at {size} ({error})"
                ) from None
            self._detectors[key] = detector
        return detector


def detector_input(frame: Frame, device: bool) -> Any:
    """The frame as a detector takes it: its device tensor where the frame is on the device
    and the detector takes those (`device`), else its host array (copied once if need be)."""
    tensor = frame.device_image if device else None
    return frame.image if tensor is None else tensor


def _windows(image: Any, settings: CameraDetectorConfig | None) -> list[Window]:
    height, width = image.shape[:2]
    whole = (0, 0, width, height)
    if settings is None or settings.tiles is None:
        return [whole]
    columns, rows = settings.tiles
    return [whole, *tile_windows(width, height, columns, rows, settings.tile_overlap)]


def _crop(image: Any, window: Window) -> Any:
    x0, y0, x1, y1 = window
    return image if (x0, y0) == (0, 0) and image.shape[:2] == (y1, x1) else image[y0:y1, x0:x1]


def _filter(found: sv.Detections, settings: CameraDetectorConfig | None) -> sv.Detections:
    if settings is None or (settings.classes is None and settings.score_threshold is None):
        return found
    keep = np.ones(len(found), dtype=bool)
    if settings.classes is not None:
        keep &= np.isin(found.data["class_name"], settings.classes)
    if settings.score_threshold is not None and found.confidence is not None:
        keep &= found.confidence >= settings.score_threshold
    result = found[keep]
    assert isinstance(result, sv.Detections)
    return result
