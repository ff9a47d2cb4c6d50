"""Face detection with CenterFace. It exists in Vigil only to find what must be blurred."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vigil.vision.boxes import nms
from vigil.vision.detector import onnx_session

# CenterFace's heatmap has stride 4 and its input sides must be multiples of 32. Frames larger
# than this are scaled down first: faces small enough to vanish at 1280 px are too small to
# identify anyway, and the cost grows with the pixel count.
_MAX_SIDE = 1280


class FaceDetector:
    def __init__(self, model: Path, threshold: float, threads: int = 0) -> None:
        self.session = onnx_session(model, threads)
        self.threshold = threshold
        self._input = self.session.get_inputs()[0].name
        # One session is shared by the pipeline and live view; onnxruntime's run() is thread-safe
        # but two concurrent runs on 2 cores only thrash, so take turns.
        self._lock = threading.Lock()

    def detect(self, image_bgr: np.ndarray) -> np.ndarray:
        """Face boxes (N, 5): x1, y1, x2, y2, score, in pixels of `image_bgr`."""
        height, width = image_bgr.shape[:2]
        net_w, net_h = _network_size(width, height)
        resized = cv2.resize(image_bgr, (net_w, net_h), interpolation=cv2.INTER_AREA)
        blob = resized[..., ::-1].transpose(2, 0, 1)[None].astype(np.float32)
        return self._run(blob, width, height)

    def detect_tensor(self, image_bgr: Any) -> np.ndarray:
        """As `detect`, for an H×W×3 BGR uint8 torch tensor (a frame on the GPU): it is scaled
        to the network's input where it is, and only that input crosses to the host."""
        import torch.nn.functional as F

        height, width = int(image_bgr.shape[0]), int(image_bgr.shape[1])
        net_w, net_h = _network_size(width, height)
        rgb = image_bgr.flip(-1).permute(2, 0, 1)[None].float()
        # cv2's INTER_AREA averages when shrinking and interpolates when enlarging.
        if net_w < width or net_h < height:
            resized = F.interpolate(rgb, size=(net_h, net_w), mode="area")
        else:
            resized = F.interpolate(rgb, size=(net_h, net_w), mode="bilinear", align_corners=False)
        return self._run(resized.round().cpu().numpy(), width, height)

    def _run(self, blob: np.ndarray, width: int, height: int) -> np.ndarray:
        net_h, net_w = blob.shape[2:]
        with self._lock:
            heatmap, scales, offsets, _landmarks = self.session.run(None, {self._input: blob})[:4]
        boxes = _decode(heatmap[0, 0], scales[0], offsets[0], self.threshold, (net_h, net_w))
        if len(boxes):
            boxes[:, [0, 2]] *= width / net_w
            boxes[:, [1, 3]] *= height / net_h
        return boxes


def _network_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, _MAX_SIDE / max(height, width))
    net_w = max(32, int(np.ceil(width * scale / 32)) * 32)
    net_h = max(32, int(np.ceil(height * scale / 32)) * 32)
    return net_w, net_h


def _decode(
    heatmap: np.ndarray,
    scales: np.ndarray,
    offsets: np.ndarray,
    threshold: float,
    size: tuple[int, int],
) -> np.ndarray:
    rows, cols = np.nonzero(heatmap > threshold)
    if rows.size == 0:
        return np.zeros((0, 5), dtype=np.float32)
    box_h = np.exp(scales[0, rows, cols]) * 4
    box_w = np.exp(scales[1, rows, cols]) * 4
    x1 = np.clip((cols + offsets[1, rows, cols] + 0.5) * 4 - box_w / 2, 0, size[1])
    y1 = np.clip((rows + offsets[0, rows, cols] + 0.5) * 4 - box_h / 2, 0, size[0])
    x2 = np.minimum(x1 + box_w, size[1])
    y2 = np.minimum(y1 + box_h, size[0])
    scores = heatmap[rows, cols]
    boxes = np.stack([x1, y1, x2, y2, scores], 1).astype(np.float32)
    return boxes[nms(boxes[:, :4], scores, 0.3)]
