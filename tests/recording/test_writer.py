"""The writer's batches: segments become visible (indexed) only once their bytes are durable,
several at a time, and a batch is committed on its own after `commit_s` without a flush."""

from __future__ import annotations

import time

from tests.recording.conftest import fresh_wrap, sealed_of
from vigil.recording.index import SegmentIndex
from vigil.recording.keys import KeyStore
from vigil.recording.segmenter import Segment
from vigil.recording.writer import SegmentWriter
from vigil.store import EventStore, LocalMediaStore

FAR = 2**62
BASE = 1_800_000_000_000


def segment(n: int) -> Segment:
    return Segment(
        data=bytes([n % 256]) * 1000,
        start_ms=BASE + n * 4000,
        end_ms=BASE + (n + 1) * 4000,
        frames=40,
        codec="h264",
        width=768,
        height=576,
    )


def test_a_batch_is_indexed_together_and_only_with_its_bytes_stored(
    store: EventStore, media: LocalMediaStore
) -> None:
    index = SegmentIndex(store.engine)
    writer = SegmentWriter(media, KeyStore(store.engine, fresh_wrap()), index, commit_s=3600)
    for n in range(3):
        assert writer.submit("default", "cam", segment(n))
    writer.flush()
    rows = index.between("cam", 0, FAR, None)
    assert [row.start_ms for row in rows] == [BASE, BASE + 4000, BASE + 8000]
    assert all(sealed_of(media, row) for row in rows)
    assert len({row.media_key for row in rows}) == 1, "one hour of one camera is one file"
    assert writer.stats.segments == 3
    writer.close()


def test_a_batch_is_committed_after_commit_s_without_a_flush(
    store: EventStore, media: LocalMediaStore
) -> None:
    index = SegmentIndex(store.engine)
    writer = SegmentWriter(media, KeyStore(store.engine, fresh_wrap()), index, commit_s=0.2)
    writer.submit("default", "cam", segment(0))
    deadline = time.monotonic() + 30
    while not index.between("cam", 0, FAR, None) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(index.between("cam", 0, FAR, None)) == 1, "the writer never committed alone"
    writer.close()


def test_many_cameras_commit_every_batch_segments(
    store: EventStore, media: LocalMediaStore
) -> None:
    index = SegmentIndex(store.engine)
    writer = SegmentWriter(
        media, KeyStore(store.engine, fresh_wrap()), index, commit_s=3600, batch=4
    )
    for n in range(4):
        writer.submit("default", f"cam-{n}", segment(n))
    deadline = time.monotonic() + 30
    while writer.stats.segments < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writer.stats.segments == 4, "a full batch must not wait for commit_s"
    writer.close()


def test_a_steady_stream_of_segments_is_still_committed_every_commit_s(
    store: EventStore, media: LocalMediaStore
) -> None:
    # Many cameras keep the queue from ever running empty: commits must not wait for that.
    index = SegmentIndex(store.engine)
    writer = SegmentWriter(
        media, KeyStore(store.engine, fresh_wrap()), index, commit_s=0.3, batch=10_000
    )
    deadline = time.monotonic() + 60
    n = 0
    while not index.between("cam", 0, FAR, None) and time.monotonic() < deadline:
        for _ in range(20):  # faster than the writer stores them: its queue stays full
            writer.submit("default", "cam", segment(n))
            n += 1
    assert index.between("cam", 0, FAR, None), "nothing was committed while segments kept coming"
    writer.close()
