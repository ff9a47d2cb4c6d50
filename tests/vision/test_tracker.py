"""Per-camera tracking keeps identities through missed detections at low analysis rates."""

from __future__ import annotations

import numpy as np
import pytest
import supervision as sv

from vigil.config import TrackerConfig
from vigil.vision.tracker import CameraTracker


def walker(x: float) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array([[x, 100, x + 30, 190]], dtype=np.float32),
        confidence=np.array([0.9], dtype=np.float32),
        class_id=np.array([0]),
        data={"class_name": np.array(["person"])},
    )


@pytest.mark.parametrize("fps", [2.0, 5.0, 10.0])
def test_one_walker_keeps_one_track_across_a_second_of_misses(fps: float) -> None:
    tracker = CameraTracker(TrackerConfig(lost_track_buffer_s=2.0), fps)
    step_ms = round(1000 / fps)
    ids: set[int] = set()
    for frame in range(int(6 * fps)):
        ts = 1_790_000_000_000 + frame * step_ms
        missed = int(2 * fps) <= frame < int(3 * fps)  # the detector loses it for one second
        tracks = tracker.update(sv.Detections.empty() if missed else walker(frame * 4.0), ts)
        if tracks.tracker_id is not None:
            ids.update(int(i) for i in tracks.tracker_id)
    assert len(ids) == 1


def test_tentative_detections_are_not_reported() -> None:
    tracker = CameraTracker(TrackerConfig(minimum_consecutive_frames=3), 5.0)
    reported = [len(tracker.update(walker(0), 1_790_000_000_000 + i * 200)) for i in range(4)]
    assert reported[0] == 0 and reported[-1] == 1
    assert tracker.update(walker(0), 1_790_000_000_800).data["class_name"].tolist() == ["person"]
