"""Cross-camera batching: full batches, deadlines, fairness, dropping and lossless back-pressure."""

from __future__ import annotations

import threading
import time

import numpy as np

from vigil.domain.frames import Frame
from vigil.pipeline.batcher import FrameBatcher

IMAGE = np.zeros((4, 4, 3), dtype=np.uint8)


def frame(camera: str, seq: int) -> Frame:
    return Frame(camera, seq, seq * 100, IMAGE)


def test_full_batch_returns_without_waiting_for_the_deadline() -> None:
    batcher = FrameBatcher(max_batch=4, max_wait_ms=10_000, queue_per_camera=4)
    for camera in "abcd":
        batcher.put(frame(camera, 0))
    started = time.monotonic()
    assert len(batcher.next_batch(timeout=5)) == 4
    assert time.monotonic() - started < 1.0


def test_partial_batch_closes_at_the_deadline() -> None:
    batcher = FrameBatcher(max_batch=8, max_wait_ms=50, queue_per_camera=4)
    batcher.put(frame("a", 0))
    assert [f.camera_id for f in batcher.next_batch(timeout=5)] == ["a"]


def test_empty_batcher_times_out_with_nothing() -> None:
    assert FrameBatcher(max_batch=2, max_wait_ms=5, queue_per_camera=2).next_batch(0.05) == []


def test_cameras_are_served_fairly() -> None:
    batcher = FrameBatcher(max_batch=3, max_wait_ms=0, queue_per_camera=10)
    for seq in range(9):
        batcher.put(frame("busy", seq))
    batcher.put(frame("quiet-1", 0))
    batcher.put(frame("quiet-2", 0))
    first = [f.camera_id for f in batcher.next_batch(1)]
    assert sorted(first) == ["busy", "quiet-1", "quiet-2"]


def test_live_camera_drops_its_oldest_frames_and_counts_them() -> None:
    batcher = FrameBatcher(max_batch=8, max_wait_ms=0, queue_per_camera=2)
    for seq in range(5):
        batcher.put(frame("a", seq))
    batcher.put(frame("b", 0))
    batch = batcher.next_batch(1)
    assert sorted((f.camera_id, f.seq) for f in batch) == [("a", 3), ("a", 4), ("b", 0)]
    assert batcher.dropped["a"] == 3 and batcher.dropped["b"] == 0


def test_lossless_mode_blocks_the_reader_instead_of_dropping() -> None:
    batcher = FrameBatcher(max_batch=1, max_wait_ms=0, queue_per_camera=1, lossless=True)
    got: list[int] = []

    def produce() -> None:
        for seq in range(20):
            batcher.put(frame("a", seq))

    producer = threading.Thread(target=produce)
    producer.start()
    while len(got) < 20:
        got.extend(f.seq for f in batcher.next_batch(1))
    producer.join(2)
    assert got == list(range(20)) and batcher.dropped["a"] == 0


def test_removed_camera_frames_are_discarded() -> None:
    batcher = FrameBatcher(max_batch=4, max_wait_ms=0, queue_per_camera=4)
    batcher.put(frame("a", 0))
    batcher.put(frame("b", 0))
    batcher.remove_camera("a")
    assert [f.camera_id for f in batcher.next_batch(1)] == ["b"]
    assert batcher.pending == 0
