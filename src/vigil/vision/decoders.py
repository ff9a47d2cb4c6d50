"""Model families: how to prepare a letterboxed batch for a network and decode what it returns.

Decoded boxes are in network-input pixels; the detector maps them back through the letterbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from vigil.vision.boxes import batched_nms

Raw = tuple[np.ndarray, np.ndarray, np.ndarray]  # xyxy (N,4), scores (N,), class ids (N,)
# NanoDet's input normalisation (BGR), as it was trained.
NANODET_MEAN = (103.53, 116.28, 123.675)
NANODET_STD = (57.375, 57.12, 58.395)


class Decoder(Protocol):
    pad_bgr: tuple[int, int, int]

    def prepare(self, batch_bgr: np.ndarray) -> np.ndarray:
        """(B,S,S,3) uint8 BGR letterboxed images → the network's input tensor."""
        ...

    def decode(
        self, outputs: list[np.ndarray], score_threshold: float, iou_threshold: float
    ) -> list[Raw]:
        """One (xyxy, scores, class ids) per image of the batch, after NMS."""
        ...


def _select(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float) -> Raw:
    keep = batched_nms(boxes, scores, classes, iou)
    return boxes[keep], scores[keep], classes[keep]


@dataclass
class NanoDetDecoder:
    """NanoDet-m (GFL head): per stride, sigmoid class scores and 4×(reg_max+1) distance bins.

    Each side's distance is the expectation of a softmax over the bins, times the stride, from
    the cell centre ((x + 0.5)·stride). Outputs are matched by shape, not by name or order,
    because converters rename and reorder them.
    """

    input_size: int
    num_classes: int = 80
    reg_max: int = 10
    strides: tuple[int, ...] = (8, 16, 32)
    pad_bgr: tuple[int, int, int] = (104, 116, 124)  # the mean: zero after normalisation

    def __post_init__(self) -> None:
        self._mean = np.array(NANODET_MEAN, dtype=np.float32)
        self._inv_std = 1.0 / np.array(NANODET_STD, dtype=np.float32)
        centres, strides = [], []
        for stride in self.strides:
            cells = self.input_size // stride
            ys, xs = np.mgrid[0:cells, 0:cells]
            centres.append(np.stack([(xs.ravel() + 0.5) * stride, (ys.ravel() + 0.5) * stride], 1))
            strides.append(np.full(cells * cells, stride, dtype=np.float32))
        self.centres = np.concatenate(centres).astype(np.float32)  # (x, y) per cell, pixels
        self.cell_strides = np.concatenate(strides)
        self._cells_per_stride = {s: (self.input_size // s) ** 2 for s in self.strides}
        self._bins = np.arange(self.reg_max + 1, dtype=np.float32)

    def prepare(self, batch_bgr: np.ndarray) -> np.ndarray:
        normalised = (batch_bgr.astype(np.float32) - self._mean) * self._inv_std
        return np.ascontiguousarray(normalised.transpose(0, 3, 1, 2))

    def decode(
        self, outputs: list[np.ndarray], score_threshold: float, iou_threshold: float
    ) -> list[Raw]:
        scores_all, regs_all = self._gather(outputs)
        results: list[Raw] = []
        for scores, regs in zip(scores_all, regs_all, strict=True):
            class_ids = scores.argmax(1)
            best = scores[np.arange(len(scores)), class_ids]
            cand = np.flatnonzero(best > score_threshold)
            bins = regs[cand].reshape(-1, 4, self.reg_max + 1)
            bins = np.exp(bins - bins.max(2, keepdims=True))
            distances = (bins / bins.sum(2, keepdims=True)) @ self._bins
            distances *= self.cell_strides[cand, None]
            centre = self.centres[cand]
            boxes = np.concatenate([centre - distances[:, :2], centre + distances[:, 2:]], 1)
            results.append(_select(boxes, best[cand], class_ids[cand], iou_threshold))
        return results

    def _gather(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Concatenate per-stride outputs in stride order: scores (B,N,C) and regs (B,N,4·bins)."""
        by_kind: dict[tuple[int, int], np.ndarray] = {}
        reg_width = 4 * (self.reg_max + 1)
        for output in outputs:
            cells, width = output.shape[1], output.shape[2]
            if width not in (self.num_classes, reg_width):
                raise ValueError(f"unexpected NanoDet output shape {output.shape}")
            by_kind[(cells, width)] = output
        cells = [self._cells_per_stride[s] for s in self.strides]
        scores = np.concatenate([by_kind[(n, self.num_classes)] for n in cells], 1)
        regs = np.concatenate([by_kind[(n, reg_width)] for n in cells], 1)
        return scores, regs


@dataclass
class YoloDecoder:
    """Ultralytics-style exports, told apart by the output's shape (C = channels per box):

    - YOLOv8/11 raw: (B, 4+C, N), boxes as centre x, y, width, height, then class scores;
    - YOLOv5 raw: (B, N, 5+C) with an objectness score before the class scores;
    - end-to-end with NMS inside: (B, K, 6) rows of x1, y1, x2, y2, score, class.
    Input: RGB scaled to 0–1, letterboxed on grey 114, as Ultralytics trains.
    """

    input_size: int
    num_classes: int = 80
    pad_bgr: tuple[int, int, int] = (114, 114, 114)

    def prepare(self, batch_bgr: np.ndarray) -> np.ndarray:
        rgb = batch_bgr[..., ::-1].transpose(0, 3, 1, 2)
        return np.ascontiguousarray(rgb, dtype=np.float32) * np.float32(1 / 255)

    def decode(
        self, outputs: list[np.ndarray], score_threshold: float, iou_threshold: float
    ) -> list[Raw]:
        out = outputs[0]
        if out.ndim != 3:
            raise ValueError(f"expected a (batch, ·, ·) YOLO output, got shape {out.shape}")
        row_widths = (4 + self.num_classes, 5 + self.num_classes, 6)
        if out.shape[2] not in row_widths and out.shape[1] == 4 + self.num_classes:
            out = out.transpose(0, 2, 1)
        channels = out.shape[2]
        results: list[Raw] = []
        for rows in out:
            if channels == 4 + self.num_classes:
                boxes, scores_by_class = _xywh_to_xyxy(rows[:, :4]), rows[:, 4:]
            elif channels == 5 + self.num_classes:
                boxes = _xywh_to_xyxy(rows[:, :4])
                scores_by_class = rows[:, 5:] * rows[:, 4:5]
            elif channels == 6:
                keep = rows[:, 4] > score_threshold
                kept = rows[keep]
                results.append((kept[:, :4], kept[:, 4], kept[:, 5].astype(np.int64)))
                continue
            else:
                raise ValueError(
                    f"YOLO output has {channels} values per box; expected {4 + self.num_classes} "
                    f"(v8), {5 + self.num_classes} (v5) or 6 (end-to-end) for "
                    f"{self.num_classes} classes — check detector.labels"
                )
            class_ids = scores_by_class.argmax(1)
            best = scores_by_class[np.arange(len(rows)), class_ids]
            cand = best > score_threshold
            results.append(_select(boxes[cand], best[cand], class_ids[cand], iou_threshold))
        return results


def _xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    half = xywh[:, 2:4] / 2
    return np.concatenate([xywh[:, :2] - half, xywh[:, :2] + half], 1)
