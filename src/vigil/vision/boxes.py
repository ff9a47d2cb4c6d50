"""Box arithmetic on numpy arrays: letterboxing and non-maximum suppression."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image was fitted into the square network input, to map boxes back."""

    scale: float
    pad_x: float
    pad_y: float
    width: int
    height: int

    def to_image(self, xyxy: np.ndarray) -> np.ndarray:
        out = xyxy.astype(np.float32, copy=True)
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        # Fancy-indexed slices are copies: clip them and assign back.
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, self.width)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, self.height)
        return out


def fit(width: int, height: int, size: int) -> tuple[Letterbox, int, int]:
    """Where an image of `width`×`height` goes in a square of `size`, and its resized width and
    height; shared by the host and the device letterbox, so both map boxes back alike."""
    scale = min(size / width, size / height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    return Letterbox(scale, pad_x, pad_y, width, height), new_w, new_h


def letterbox_into(image: np.ndarray, canvas: np.ndarray) -> Letterbox:
    """Resize `image` keeping its aspect ratio, centred into the pre-filled square `canvas`."""
    height, width = image.shape[:2]
    box, new_w, new_h = fit(width, height, canvas.shape[0])
    left, top = int(box.pad_x), int(box.pad_y)
    canvas[top : top + new_h, left : left + new_w] = cv2.resize(
        image, (new_w, new_h), interpolation=cv2.INTER_LINEAR
    )
    return box


def nms(xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores)
    areas = (xyxy[:, 2] - xyxy[:, 0]).clip(0) * (xyxy[:, 3] - xyxy[:, 1]).clip(0)
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        x1 = np.maximum(xyxy[best, 0], xyxy[rest, 0])
        y1 = np.maximum(xyxy[best, 1], xyxy[rest, 1])
        x2 = np.minimum(xyxy[best, 2], xyxy[rest, 2])
        y2 = np.minimum(xyxy[best, 3], xyxy[rest, 3])
        inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
        iou = inter / (areas[best] + areas[rest] - inter + 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(
    xyxy: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou_threshold: float
) -> np.ndarray:
    """Per-class NMS in one pass: boxes of different classes are shifted apart so never overlap."""
    if xyxy.size == 0:
        return np.zeros(0, dtype=np.int64)
    offset = class_ids.astype(np.float32)[:, None] * (float(xyxy.max()) + 1.0)
    return nms(xyxy + offset, scores, iou_threshold)
