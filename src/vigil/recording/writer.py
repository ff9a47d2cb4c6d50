"""Sealing and storing finished segments, off the camera reader's thread.

A segment is sealed with its hour's key, put into the media store (local directory or S3), and
only then indexed: an indexed segment always has its bytes. The queue is bounded; when the
store is slower than the cameras, the newest segments are dropped and counted rather than
stalling every reader behind one slow disk.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from vigil.recording.crypto import seal
from vigil.recording.index import SegmentIndex, SegmentRow
from vigil.recording.keys import KeyStore, hour_of
from vigil.recording.segmenter import Segment
from vigil.store.media import MediaStore, validate_key

log = logging.getLogger(__name__)

SEALED_CONTENT_TYPE = "application/octet-stream"


def segment_key(tenant: str, camera_id: str, start_ms: int, segment_id: str) -> str:
    """recordings/<tenant>/<camera>/<YYYY-MM-DD>/<HH>/<start ms>-<id>.ts.sealed (UTC)."""
    when = datetime.fromtimestamp(start_ms / 1000, tz=UTC).strftime("%Y-%m-%d/%H")
    return validate_key(f"recordings/{tenant}/{camera_id}/{when}/{start_ms}-{segment_id}.ts.sealed")


@dataclass
class WriterStats:
    segments: int = 0
    bytes: int = 0
    dropped: int = 0
    errors: int = 0
    last_error: str | None = None


class SegmentWriter:
    def __init__(
        self, media: MediaStore, keys: KeyStore, index: SegmentIndex, queue_size: int = 256
    ) -> None:
        self.media = media
        self.keys = keys
        self.index = index
        self.stats = WriterStats()
        self._queue: queue.Queue[tuple[str, str, Segment] | None] = queue.Queue(queue_size)
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

    def write(self, tenant: str, camera_id: str, segment: Segment) -> SegmentRow:
        """Seal, store and index one segment now (the thread's work; benchmarks call it)."""
        hour = hour_of(segment.start_ms)
        segment_id = str(uuid.uuid4())
        key = segment_key(tenant, camera_id, segment.start_ms, segment_id)
        sealed = seal(self.keys.key_for_writing(tenant, camera_id, hour), segment.data, key)
        self.media.put(key, sealed, SEALED_CONTENT_TYPE)
        row = SegmentRow(
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
        self.index.add(row)
        with self._lock:
            self.stats.segments += 1
            self.stats.bytes += len(sealed)
        return row

    def flush(self) -> None:
        """Wait until every submitted segment is stored (tests, shutdown)."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                try:
                    self.write(*item)
                except Exception as exc:  # a full disk or a lost S3 must not end recording
                    log.exception("recording: storing a segment of camera %s failed", item[1])
                    with self._lock:
                        self.stats.errors += 1
                        self.stats.last_error = f"storing a segment failed: {exc}"
            finally:
                self._queue.task_done()
