"""The running engine records a camera it analyses: its status says so, segments reach the
index while analysis samples at a few fps, and stopping the camera stores the open segment."""

from __future__ import annotations

import time

from vigil.config import VigilConfig
from vigil.recording.index import SegmentIndex
from vigil.runtime import build_runtime, start_runtime


def test_the_engine_records_what_it_analyses(demo_config: VigilConfig) -> None:
    config = demo_config
    config.cameras = config.cameras[:1]
    config.recording.mode = "continuous"
    config.recording.segment_s = 2
    camera_id = config.cameras[0].id
    runtime = build_runtime(config)
    start_runtime(runtime)
    index = SegmentIndex(runtime.store.engine)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(index.between(camera_id, 0, 2**62, None)) < 2:
            time.sleep(0.5)
        status = runtime.engine.status(camera_id)
        assert status is not None and status.recording == "recording"
    finally:
        runtime.stop()
    rows = index.between(camera_id, 0, 2**62, None)
    assert len(rows) >= 2
    # Recorded at the clip's 10 fps while analysis sampled 5 fps (the demo's analysis_fps).
    frames, span_ms = sum(r.frames for r in rows), rows[-1].end_ms - rows[0].start_ms
    assert frames / (span_ms / 1000) > 8
