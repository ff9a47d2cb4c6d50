"""Tiled detection: a wide high-resolution frame split into overlapping tiles.

Letterboxed into a 416- or 640-pixel input, a person 30 pixels tall in a 4K frame becomes 4
pixels tall and is missed. Detecting in tiles keeps them large enough; the whole frame is
detected too, so that people larger than a tile are not cut in pieces, and the overlaps are
merged by class-aware non-maximum suppression.
"""

from __future__ import annotations

import numpy as np
import supervision as sv

from vigil.vision.boxes import batched_nms

Window = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels


def tile_windows(width: int, height: int, columns: int, rows: int, overlap: float) -> list[Window]:
    """`columns` × `rows` tiles covering the frame, neighbours sharing `overlap` of a tile."""

    def spans(length: int, count: int) -> list[tuple[int, int]]:
        size = length / (count - (count - 1) * overlap)
        step = size * (1 - overlap)
        return [(round(i * step), min(length, round(i * step + size))) for i in range(count)]

    return [(x0, y0, x1, y1) for y0, y1 in spans(height, rows) for x0, x1 in spans(width, columns)]


def merge_tiles(parts: list[tuple[sv.Detections, Window]], iou: float) -> sv.Detections:
    """Detections of each window, moved into frame coordinates and merged across overlaps."""
    moved = []
    for found, (x0, y0, _, _) in parts:
        if len(found):
            shifted = found.xyxy + np.array([x0, y0, x0, y0], dtype=found.xyxy.dtype)
            moved.append(
                sv.Detections(
                    xyxy=shifted,
                    confidence=found.confidence,
                    class_id=found.class_id,
                    data=dict(found.data),
                )
            )
    if not moved:
        return parts[0][0] if parts else sv.Detections.empty()  # nothing found anywhere
    merged = sv.Detections.merge(moved)
    assert merged.confidence is not None and merged.class_id is not None
    keep = batched_nms(merged.xyxy, merged.confidence, merged.class_id, iou)
    result = merged[keep]
    assert isinstance(result, sv.Detections)
    return result
