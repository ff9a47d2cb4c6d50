"""Sealing and storing finished segments, off the camera reader's thread, in batches.

A segment is sealed with its hour's key and put into the media store (local directory or S3)
at once; every `commit_s` (or `batch` segments, or on flush/close) the batch is made durable —
one pass of fsyncs on a local disk — and only then indexed, all its rows in one transaction.
So an indexed segment always has its bytes on stable storage, and a crash loses at most the
segments not yet committed (docs/recording.md says exactly what). Per segment, a separate
fsync and commit cost more CPU than remuxing it; per batch they are shared.

The queue is bounded; when the store is slower than the cameras, the newest segments are
dropped and counted rather than stalling every reader behind one slow disk.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from vigil.domain.namespaces import path_segment
from vigil.recording.crypto import seal
from vigil.recording.index import SegmentIndex, SegmentRow
from vigil.recording.keys import KeyStore, hour_of
from vigil.recording.segmenter import Segment
from vigil.store.media import MediaStore, validate_key

log = logging.getLogger(__name__)

SEALED_CONTENT_TYPE = "application/octet-stream"
# Longest time a stored segment waits to be made durable and indexed: what a crash can lose
# beyond the open segment, and how long a finished segment takes to appear on the timeline.
COMMIT_S = 8.0
# A batch is committed sooner when this many segments wait (many cameras on one writer).
BATCH = 64


def segment_key(tenant: str, camera_id: str, start_ms: int, segment_id: str) -> str:
    """recordings/<tenant>/<camera>/<YYYY-MM-DD>/<HH>/<start ms>-<id>.ts.sealed (UTC)."""
    when = datetime.fromtimestamp(start_ms / 1000, tz=UTC).strftime("%Y-%m-%d/%H")
    camera = path_segment(camera_id)  # 'acme:gate' is 'acme.gate'
    return validate_key(f"recordings/{tenant}/{camera}/{when}/{start_ms}-{segment_id}.ts.sealed")


@dataclass
class WriterStats:
    segments: int = 0
    bytes: int = 0
    dropped: int = 0
    errors: int = 0
    last_error: str | None = None


_Item = tuple[str, str, Segment] | threading.Event | None


class SegmentWriter:
    def __init__(
        self,
        media: MediaStore,
        keys: KeyStore,
        index: SegmentIndex,
        queue_size: int = 256,
        *,
        commit_s: float = COMMIT_S,
        batch: int = BATCH,
    ) -> None:
        self.media = media
        self.keys = keys
        self.index = index
        self.commit_s = commit_s
        self.batch = batch
        self.stats = WriterStats()
        self._queue: queue.Queue[_Item] = queue.Queue(queue_size)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="recording-writer", daemon=True)
        self._thread.start()

    def submit(self, tenant: str, camera_id: str, segment: Segment) -> bool:
        try:
            self._queue.put_nowait((tenant, camera_id, segment))
            return True
        except queue.Full:
            with self._lock:
                self.stats.dropped += 1
            log.warning("recording: store too slow, dropped a segment of camera %s", camera_id)
            return False

    def store(self, tenant: str, camera_id: str, segment: Segment) -> SegmentRow:
        """Seal and store one segment, neither durable nor indexed yet: `commit` does both."""
        hour = hour_of(segment.start_ms)
        segment_id = str(uuid.uuid4())
        key = segment_key(tenant, camera_id, segment.start_ms, segment_id)
        sealed = seal(self.keys.key_for_writing(tenant, camera_id, hour), segment.data, key)
        self.media.put_unsynced(key, sealed, SEALED_CONTENT_TYPE)
        return SegmentRow(
            id=segment_id,
            tenant=tenant,
            camera_id=camera_id,
            start_ms=segment.start_ms,
            end_ms=segment.end_ms,
            hour_ms=hour,
            media_key=key,
            bytes=len(sealed),
            frames=segment.frames,
            codec=segment.codec,
            width=segment.width,
            height=segment.height,
        )

    def commit(self, rows: list[SegmentRow]) -> None:
        """Make stored segments durable, then index them all in one transaction."""
        if not rows:
            return
        self.media.sync([row.media_key for row in rows])
        self.index.add(rows)
        with self._lock:
            self.stats.segments += len(rows)
            self.stats.bytes += sum(row.bytes for row in rows)

    def write(self, tenant: str, camera_id: str, segment: Segment) -> SegmentRow:
        """Seal, store, make durable and index one segment now (tests)."""
        row = self.store(tenant, camera_id, segment)
        self.commit([row])
        return row

    def flush(self) -> None:
        """Wait until every submitted segment is durable and indexed (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(done)
        done.wait()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        pending: list[SegmentRow] = []
        deadline = 0.0  # when the oldest pending segment must be committed
        while True:
            timeout = max(0.0, deadline - time.monotonic()) if pending else None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = threading.Event()  # the deadline passed: commit what waits
            if isinstance(item, tuple):
                tenant, camera_id, segment = item
                try:
                    pending.append(self.store(tenant, camera_id, segment))
                except Exception as exc:  # a full disk or a lost S3 must not end recording
                    self._failed(f"storing a segment of camera {camera_id}", exc)
                if len(pending) == 1:
                    deadline = time.monotonic() + self.commit_s
                # A steady stream of segments never lets the queue run empty: the deadline is
                # checked here too, not only when waiting times out.
                if len(pending) < self.batch and time.monotonic() < deadline:
                    continue
            try:
                self.commit(pending)
                pending = []
            except Exception as exc:  # kept pending: the next commit tries them again
                self._failed(f"committing {len(pending)} segments", exc)
                deadline = time.monotonic() + self.commit_s
            if isinstance(item, threading.Event):
                item.set()
            elif item is None:
                return

    def _failed(self, what: str, exc: Exception) -> None:
        log.exception("recording: %s failed", what)
        with self._lock:
            self.stats.errors += 1
            self.stats.last_error = f"{what} failed: {exc}"
