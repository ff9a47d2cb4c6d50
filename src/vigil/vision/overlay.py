"""Drawing for live view and snapshots: boxes with track ids, zones and lines."""

from __future__ import annotations

import cv2
import numpy as np
import supervision as sv

from vigil.config import CameraConfig

_BOX = (80, 220, 255)
_ZONE = (255, 160, 40)
_LINE = (60, 60, 255)


def _scale_for(image: np.ndarray) -> float:
    return max(0.4, image.shape[1] / 1280)


def draw_box(image: np.ndarray, box: tuple[float, float, float, float], label: str = "") -> None:
    scale = _scale_for(image)
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    cv2.rectangle(image, (x1, y1), (x2, y2), _BOX, max(1, int(2 * scale)), cv2.LINE_AA)
    if label:
        size = 0.5 * scale
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, size, 1)
        top = max(th + 4, y1)
        cv2.rectangle(image, (x1, top - th - 4), (x1 + tw + 4, top), _BOX, -1)
        cv2.putText(
            image,
            label,
            (x1 + 2, top - 3),
            cv2.FONT_HERSHEY_SIMPLEX,
            size,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )


def draw_tracks(image: np.ndarray, tracks: sv.Detections, scale: float = 1.0) -> None:
    """Boxes labelled with track id and class; `scale` maps frame pixels to `image` pixels."""
    names = tracks.data.get("class_name", [])
    ids = tracks.tracker_id if tracks.tracker_id is not None else [None] * len(tracks)
    for box, name, track_id in zip(tracks.xyxy, names, ids, strict=False):
        label = f"#{track_id} {name}" if track_id is not None else str(name)
        x1, y1, x2, y2 = (float(v) * scale for v in box)
        draw_box(image, (x1, y1, x2, y2), label)


def draw_geometry(image: np.ndarray, camera: CameraConfig, scale: float = 1.0) -> None:
    """The camera's zones and lines; `scale` maps frame pixels to `image` pixels."""
    size = _scale_for(image)
    thickness = max(1, int(2 * size))
    for zone in camera.zones:
        points = (np.asarray(zone.polygon) * scale).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [points], True, _ZONE, thickness, cv2.LINE_AA)
        x, y = points[0, 0]
        cv2.putText(
            image,
            zone.name,
            (int(x) + 4, int(y) + 16),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5 * size,
            _ZONE,
            1,
            cv2.LINE_AA,
        )
    for line in camera.lines:
        start = (int(line.start[0] * scale), int(line.start[1] * scale))
        end = (int(line.end[0] * scale), int(line.end[1] * scale))
        cv2.line(image, start, end, _LINE, thickness + 1, cv2.LINE_AA)
        cv2.putText(
            image,
            line.name,
            (end[0] + 4, end[1]),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5 * size,
            _LINE,
            1,
            cv2.LINE_AA,
        )


def fit_width(image: np.ndarray, max_width: int | None) -> tuple[np.ndarray, float]:
    """A copy no wider than `max_width`, and the scale applied."""
    if not max_width or image.shape[1] <= max_width:
        return image.copy(), 1.0
    scale = max_width / image.shape[1]
    height = max(1, round(image.shape[0] * scale))
    return cv2.resize(image, (max_width, height), interpolation=cv2.INTER_AREA), scale


def encode_jpeg(image: np.ndarray, quality: int = 80) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()
