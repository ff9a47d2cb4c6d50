"""Per-camera multi-object tracking with ByteTrack (Roboflow `trackers`)."""

from __future__ import annotations

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from vigil.config import TrackerConfig


class CameraTracker:
    """ByteTrack for one camera, fed with the camera's own clock so dropped frames and variable
    analysis rates are handled as elapsed time rather than as missing steps."""

    def __init__(self, config: TrackerConfig, analysis_fps: float) -> None:
        self._tracker = ByteTrackTracker(
            # Given timestamps, `trackers` keeps a lost track for lost_track_buffer / 30 seconds
            # (ByteTrack's buffer is defined at 30 fps), whatever the frame rate.
            lost_track_buffer=max(1, round(config.lost_track_buffer_s * 30)),
            frame_rate=analysis_fps,
            track_activation_threshold=config.activation_threshold,
            high_conf_det_threshold=max(config.activation_threshold, 0.5),
            minimum_consecutive_frames=config.minimum_consecutive_frames,
        )

    def update(self, detections: sv.Detections, ts_ms: int) -> sv.Detections:
        """Confirmed tracks only: tentative detections (tracker id -1) are left out."""
        tracked = self._tracker.update(detections, timestamp=ts_ms / 1000)
        if tracked.tracker_id is None or not len(tracked):
            return _empty_tracks()
        confirmed = tracked[tracked.tracker_id >= 0]
        assert isinstance(confirmed, sv.Detections)
        return confirmed


def _empty_tracks() -> sv.Detections:
    empty = sv.Detections.empty()
    empty.tracker_id = np.zeros(0, dtype=int)
    empty.data["class_name"] = np.zeros(0, dtype=str)
    return empty
