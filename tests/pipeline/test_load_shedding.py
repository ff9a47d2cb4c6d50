"""Load shedding by priority: when the detector cannot keep up, the low-priority cameras lose
analysed frames first and the high-priority ones keep their rate, in simulated time."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.media import CLIP
from vigil.bench.cameras import PacedDetector
from vigil.bus import MemoryBus
from vigil.config import CameraConfig, parse_config
from vigil.domain.frames import Frame
from vigil.pipeline.deadline import DeadlineBatcher
from vigil.pipeline.local_engine import LocalEngine
from vigil.pipeline.scheduler import SHED_WINDOW_S, DeadlineScheduler
from vigil.pipeline.simulation import LARGE_BATCH, SUSTAINED_SHARE, DetectorModel, simulate
from vigil.privacy.redact import FaceRedactor
from vigil.store import LocalMediaStore

CAMERAS, FPS, SECONDS = 1000, 5.0, 20
IMAGE = np.zeros((4, 4, 3), dtype=np.uint8)
HIGH = 300  # cameras 0..299 are important (priority 2); the other 700 have the default, 0


def test_an_overloaded_detector_keeps_high_priority_cameras_at_their_rate() -> None:
    # The detector serves 3,000 of the 5,000 frames/s offered: 1,500 go to the 300 important
    # cameras in full, the other 1,500 are shared by the 700 others.
    detector = DetectorModel(frames_per_s=3000)
    summary, loads = simulate(
        CAMERAS, FPS, detector, LARGE_BATCH, seconds=SECONDS, priorities=[2] * HIGH
    )
    ordered = [loads[f"cam-{i:04d}"] for i in range(CAMERAS)]
    high, low = ordered[:HIGH], ordered[HIGH:]
    for load in high:
        assert load.analysed >= SUSTAINED_SHARE * load.offered
        assert load.lag_max_s <= LARGE_BATCH.max_lag_s + 1e-9  # type: ignore[operator]
    low_rate = np.array([load.analysed for load in low]) / SECONDS
    # The rest of the detector goes to the low-priority cameras, shared evenly among them.
    assert low_rate.mean() == pytest.approx(1500 / 700, rel=0.1)
    assert np.all(np.abs(low_rate - low_rate.mean()) <= 0.15 * low_rate.mean())
    assert summary.analysed_fps == pytest.approx(3000, rel=0.03)
    assert all(load.shedding(SECONDS + 5.0) for load in low)
    assert not any(load.shedding(SECONDS + 5.0) for load in high)


def test_without_priorities_the_same_overload_slows_every_camera_alike() -> None:
    detector = DetectorModel(frames_per_s=3000)
    _, loads = simulate(CAMERAS, FPS, detector, LARGE_BATCH, seconds=SECONDS)
    high = [loads[f"cam-{i:04d}"] for i in range(HIGH)]
    # Nobody is protected: the important cameras fall to ~3 of their 5 fps like the rest.
    assert all(load.analysed < SUSTAINED_SHARE * load.offered for load in high)


def test_a_camera_whose_priority_changes_moves_to_its_new_place() -> None:
    scheduler: DeadlineScheduler[int] = DeadlineScheduler(
        max_batch=1, max_wait_s=0.0, queue_per_camera=4, max_lag_s=None
    )
    for camera in ("a", "b"):
        scheduler.offer(camera, 0, 0.0)
        scheduler.offer(camera, 1, 0.0)
    scheduler.set_priority("b", 5)
    assert [scheduler.take(0.0)[0].camera_id for _ in range(2)] == ["b", "b"]
    scheduler.set_priority("b", 0)
    scheduler.offer("b", 2, 0.0)
    # Back in the same ring as "a": served in turns again.
    assert sorted(scheduler.take(0.0)[0].camera_id for _ in range(2)) == ["a", "b"]
    scheduler.remove("b")
    assert scheduler.take(0.0)[0].camera_id == "a"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_batcher_reports_which_cameras_are_shed_and_when_they_recover() -> None:
    clock = Clock()
    batcher = DeadlineBatcher(
        1, max_wait_ms=0, queue_per_camera=1, max_lag_ms=None, clock=clock, age_of=lambda _: 0.0
    )
    batcher.set_priority("entrance", 1)
    for _ in range(3):  # room for one frame per call: the entrance camera always gets it
        batcher.put(Frame("yard", 0, 0, IMAGE))
        batcher.put(Frame("entrance", 0, 0, IMAGE))
        assert [frame.camera_id for frame in batcher.next_batch(timeout=0)] == ["entrance"]
        clock.now += 0.2
    assert batcher.shedding("yard") and not batcher.shedding("entrance")
    assert batcher.dropped["yard"] == 2  # each new yard frame pushed out the waiting one
    clock.now += SHED_WINDOW_S
    assert not batcher.shedding("yard")  # nothing dropped for a while: back to its rate


def test_the_engine_sheds_the_low_priority_camera_and_keeps_it_so_after_a_change(
    tmp_path: Path,
) -> None:
    # Two cameras replaying the bundled clip at 5 fps each, a detector that serves 7 frames/s
    # in batches of 2 (full under overload, as a GPU's batches of 256 are with a thousand
    # cameras): the entrance camera (priority 1) keeps its rate, the yard camera is slowed and
    # says so.
    config = parse_config({
        "batching": {"max_batch": 2, "max_wait_ms": 20, "max_lag_ms": 2000},
        "sources": {"file_roots": [str(CLIP.parent)]},
    })
    engine = LocalEngine(
        config,
        detector=PacedDetector(7.0),
        redactor=FaceRedactor(None),  # type: ignore[arg-type]  # no events, no snapshots
        bus=MemoryBus(),
        media=LocalMediaStore(tmp_path),
    )
    entrance = CameraConfig(id="entrance", url=str(CLIP), priority=1)
    yard = CameraConfig(id="yard", url=str(CLIP), start_offset_s=20)
    engine.start([entrance, yard])
    try:
        # After a change of settings the camera is rebuilt: it must keep its priority.
        engine.replace_camera(entrance.model_copy(update={"name": "Entrance"}))
        deadline = time.monotonic() + 60
        while True:
            statuses = {status.camera_id: status for status in engine.statuses()}
            if statuses["yard"].load_shed and statuses["entrance"].analysed_fps > 0:
                break
            assert time.monotonic() < deadline, f"never shed: {statuses}"
            time.sleep(0.5)
        time.sleep(3)  # a few seconds of steady overload
        statuses = {status.camera_id: status for status in engine.statuses()}
        assert statuses["yard"].load_shed
        assert statuses["yard"].dropped_frames > statuses["entrance"].dropped_frames
        assert statuses["entrance"].analysed_fps > statuses["yard"].analysed_fps
    finally:
        engine.stop()
