"""Synthetic tracks for module tests: objects as (track id, class, box) at given times."""

from __future__ import annotations

import numpy as np
import supervision as sv

from vigil.config import CameraConfig, parse_camera
from vigil.modules.base import Tracks

CLASS_IDS = {"person": 0, "car": 2, "dog": 16}


def frame_tracks(
    ts_ms: int, *objects: tuple[int, str, tuple[float, float, float, float]]
) -> Tracks:
    detections = sv.Detections(
        xyxy=np.array([box for _, _, box in objects], dtype=np.float32).reshape(-1, 4),
        confidence=np.full(len(objects), 0.8, dtype=np.float32),
        class_id=np.array([CLASS_IDS[name] for _, name, _ in objects], dtype=int),
        tracker_id=np.array([track for track, _, _ in objects], dtype=int),
        data={"class_name": np.array([name for _, name, _ in objects], dtype=str)},
    )
    return Tracks("cam", ts_ms, detections, (480, 640))


def standing_at(x: float, y: float) -> tuple[float, float, float, float]:
    """A 20×60 box whose bottom centre (where the object stands) is (x, y)."""
    return (x - 10, y - 60, x + 10, y)


def camera(**modules: dict[str, object]) -> CameraConfig:
    return parse_camera(
        {
            "id": "cam",
            "url": "clip.mp4",
            "zones": [
                {"name": "plaza", "polygon": [[100, 100], [300, 100], [300, 300], [100, 300]]}
            ],
            "lines": [{"name": "gate", "start": [400, 0], "end": [400, 480]}],
            "modules": modules,
        }
    )
