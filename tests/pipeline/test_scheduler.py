"""The deadline scheduler: a thousand cameras at 5 fps against detectors of known speed, in
simulated time, and the threaded batcher the engine runs, on a hand-driven clock."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.config import BatchingConfig
from vigil.domain.frames import Frame
from vigil.pipeline.batcher import FrameBatcher
from vigil.pipeline.deadline import DeadlineBatcher, make_batcher
from vigil.pipeline.scheduler import DeadlineScheduler
from vigil.pipeline.simulation import BASELINE, LARGE_BATCH, DetectorModel, Policy, simulate

CAMERAS, FPS = 1000, 5.0
WITHIN_BUDGET = 1.0 + 1e-9  # the 1 s lag budget, up to float rounding of simulated time
# The cost shape measured on an H200 (NanoDet fp16): ~5.6 ms per call, ~0.064 ms per image.
GPU_LIKE = DetectorModel(frames_per_s=15_600, per_call_s=0.0056)


def test_half_speed_detector_shares_itself_fairly_and_lag_stays_within_budget() -> None:
    summary, loads = simulate(
        CAMERAS, FPS, DetectorModel(frames_per_s=2500), LARGE_BATCH, seconds=20
    )
    analysed = np.array([load.analysed for load in loads.values()])
    # Every camera gets about half its frames: within 10 % of the mean share.
    assert np.all(np.abs(analysed - analysed.mean()) <= 0.1 * analysed.mean())
    assert analysed.mean() == pytest.approx(FPS * 20 / 2, rel=0.05)
    # The detector never idles while frames wait: it analyses what it can serve.
    assert summary.analysed_fps == pytest.approx(2500, rel=0.03)
    # What is not analysed is dropped and counted (up to the frames waiting at either end of
    # the measuring window), never analysed late.
    queue = LARGE_BATCH.queue_per_camera
    assert all(abs(load.offered - load.analysed - load.dropped) <= queue for load in loads.values())
    assert summary.lag_max_s <= WITHIN_BUDGET
    assert summary.cameras_sustained == 0


def test_without_a_lag_budget_deep_queues_let_lag_grow_past_a_second() -> None:
    deep = Policy(max_batch=256, max_wait_s=0.05, queue_per_camera=50, max_lag_s=None)
    unbounded, _ = simulate(CAMERAS, FPS, DetectorModel(frames_per_s=2500), deep, seconds=20)
    budget = Policy(max_batch=256, max_wait_s=0.05, queue_per_camera=50, max_lag_s=1.0)
    bounded, _ = simulate(CAMERAS, FPS, DetectorModel(frames_per_s=2500), budget, seconds=20)
    assert unbounded.lag_max_s > 3.0
    assert bounded.lag_max_s <= WITHIN_BUDGET
    assert bounded.analysed_fps == pytest.approx(unbounded.analysed_fps, rel=0.05)


def test_large_batches_sustain_a_thousand_cameras_where_batches_of_eight_cannot() -> None:
    large, _ = simulate(CAMERAS, FPS, GPU_LIKE, LARGE_BATCH, seconds=10)
    small, _ = simulate(CAMERAS, FPS, GPU_LIKE, BASELINE, seconds=10)
    assert large.cameras_sustained == CAMERAS
    assert large.dropped_share == 0.0
    assert large.lag_max_s < 1.0
    assert small.cameras_sustained == 0  # 8 frames per 5.6 ms call: ~1,300 of 5,000 frames/s
    assert small.analysed_fps < 0.3 * large.analysed_fps


def test_a_detector_slower_than_the_budget_gets_smaller_batches_not_late_frames() -> None:
    summary, _ = simulate(CAMERAS, FPS, DetectorModel(frames_per_s=90), LARGE_BATCH, seconds=20)
    assert summary.mean_batch < 90  # a batch of 256 would take 2.8 s
    assert summary.lag_max_s <= WITHIN_BUDGET
    assert summary.analysed_fps == pytest.approx(90, rel=0.05)


def test_a_full_camera_queue_drops_its_oldest_frame() -> None:
    scheduler: DeadlineScheduler[int] = DeadlineScheduler(8, 0.0, queue_per_camera=2)
    for k in range(5):
        scheduler.offer("a", k, captured_s=k)
    assert [queued.item for queued in scheduler.take(10.0)] == [3, 4]
    assert scheduler.loads["a"].dropped_full == 3


def test_removing_a_camera_forgets_its_frames_and_keeps_the_turn_valid() -> None:
    scheduler: DeadlineScheduler[int] = DeadlineScheduler(8, 0.0, queue_per_camera=4)
    for camera in "abc":
        scheduler.offer(camera, 0, captured_s=0.0)
    scheduler.remove("b")
    assert scheduler.pending == 2
    assert sorted(queued.camera_id for queued in scheduler.take(1.0)) == ["a", "c"]
    assert scheduler.closes_at() is None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


IMAGE = np.zeros((4, 4, 3), dtype=np.uint8)


def test_batcher_drops_frames_that_cannot_meet_the_budget_and_reports_them() -> None:
    clock = Clock()
    batcher = DeadlineBatcher(
        4, max_wait_ms=0, queue_per_camera=4, max_lag_ms=1000, clock=clock, age_of=lambda _: 0.0
    )
    batcher.put(Frame("old", 0, 0, IMAGE))
    clock.now += 2.0  # the inference thread was busy for two seconds
    batcher.put(Frame("new", 0, 0, IMAGE))
    assert [frame.camera_id for frame in batcher.next_batch(timeout=0)] == ["new"]
    assert batcher.dropped["old"] == 1
    clock.now += 0.25
    assert batcher.next_batch(timeout=0) == []  # records the finished batch
    load = batcher.loads()["new"]
    assert load.analysed == 1 and load.lag_max_s == pytest.approx(0.25)


def test_engine_uses_the_deadline_batcher_only_for_live_cameras_with_a_budget() -> None:
    budget = BatchingConfig(max_batch=256, max_lag_ms=1000)
    assert isinstance(make_batcher(budget, offline=False), DeadlineBatcher)
    assert isinstance(make_batcher(budget, offline=True), FrameBatcher)
    assert isinstance(make_batcher(BatchingConfig(), offline=False), FrameBatcher)


def test_batcher_counts_lag_from_capture_not_from_arrival() -> None:
    clock = Clock()
    batcher = DeadlineBatcher(
        4, max_wait_ms=0, queue_per_camera=4, max_lag_ms=1000, clock=clock, age_of=lambda _: 1.5
    )  # frames that took 1.5 s to decode and arrive: already past the budget
    batcher.put(Frame("slow", 0, 0, IMAGE))
    assert batcher.next_batch(timeout=0) == []
    assert batcher.dropped["slow"] == 1


def test_bookkeeping_stays_bounded_under_overload() -> None:
    scheduler: DeadlineScheduler[int] = DeadlineScheduler(8, 0.05, queue_per_camera=2)
    for step in range(2000):  # 100 cameras, each offering faster than batches drain
        now = step * 0.01
        for camera in range(100):
            scheduler.offer(f"c{camera}", step, captured_s=now)
        scheduler.take(now)
    # Only waiting frames are tracked: at most two per camera, not all 200,000 offered.
    assert scheduler.pending <= 200
    assert len(scheduler._heads) <= 2 * 200 and len(scheduler._gone) <= 2 * 200
