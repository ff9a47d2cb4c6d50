"""Sealing and storing finished segments, off the camera reader's thread, in batches.

A segment is sealed with its hour's key and appended at once to its camera-hour file in the
media store (local directory or S3; vigil.recording.hourfiles); every `commit_s` (or `batch`
segments, or on flush/close) the batch is made durable — one fdatasync per file on a local
disk — and only then indexed, all its rows in one transaction. So an indexed segment always
has its bytes on stable storage, and a crash loses at most the segments not yet committed
(docs/recording.md says exactly what), whose bytes the orphan sweep cuts off. Per segment, a
file creation, an fsync and a commit each cost more CPU than remuxing it; per camera-hour and
per batch they are shared.

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

from vigil.domain.frames import now_ms
from vigil.recording.crypto import seal
from vigil.recording.hourfiles import HourFile, OpenFiles, hour_file_key, sweep
from vigil.recording.index import SegmentIndex, SegmentRow
from vigil.recording.keys import HOUR_MS, KeyStore, hour_of
from vigil.recording.segmenter import Segment
from vigil.store.media import MediaStore

log = logging.getLogger(__name__)

# Longest time a stored segment waits to be made durable and indexed: what a crash can lose
# beyond the open segment, and how long a finished segment takes to appear on the timeline.
COMMIT_S = 8.0
# A batch is committed sooner when this many segments wait (many cameras on one writer).
BATCH = 64
# A listed hour file untouched this long belongs to no live writer (each commits within
# COMMIT_S): its unindexed tail is a crash's, and the sweep cuts it off.
ORPHAN_AFTER_S = 2 * COMMIT_S
# How often a running writer sweeps other writers' leftovers (a worker that died for good).
SWEEP_EVERY_S = 60.0


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
        orphan_after_s: float = ORPHAN_AFTER_S,
    ) -> None:
        self.media = media
        self.keys = keys
        self.index = index
        self.commit_s = commit_s
        self.batch = batch
        self.orphan_after_ms = int(orphan_after_s * 1000)
        self.stats = WriterStats()
        self._queue: queue.Queue[_Item] = queue.Queue(queue_size)
        self._lock = threading.Lock()
        self._run_id = uuid.uuid4().hex[:12]
        self._open_files = OpenFiles(index.engine)
        self._files: dict[tuple[str, str], HourFile] = {}  # (tenant, camera): its open file
        self._ending: list[HourFile] = []  # files done with, to delist after the next commit
        self.sweep()
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

    def sweep(self) -> None:
        """Cut crashed writers' unindexed bytes off their hour files (on start, and every
        SWEEP_EVERY_S); never this writer's own files."""
        self._swept_at = time.monotonic()
        mine = [f.key for f in self._files.values()] + [f.key for f in self._ending]
        try:
            files, cut = sweep(self.index.engine, self.media, self.orphan_after_ms, mine)
        except Exception as exc:  # leftovers wait for the next sweep; recording goes on
            self._failed("sweeping crashed writers' hour files", exc)
            return
        if files:
            log.info("recording: swept %d hour files left open, %d bytes cut", files, cut)

    def store(self, tenant: str, camera_id: str, segment: Segment) -> SegmentRow:
        """Seal and append one segment to its hour file, neither durable nor indexed yet:
        `commit` does both."""
        hour = hour_of(segment.start_ms)
        file = self._file_for(tenant, camera_id, hour, segment.start_ms)
        segment_id = str(uuid.uuid4())
        key = self.keys.key_for_writing(tenant, camera_id, hour)
        sealed = seal(key, segment.data, file.key, segment_id)
        offset = self.media.append(file.key, sealed)
        return SegmentRow(
            id=segment_id,
            tenant=tenant,
            camera_id=camera_id,
            start_ms=segment.start_ms,
            end_ms=segment.end_ms,
            hour_ms=hour,
            media_key=file.key,
            bytes=len(sealed),
            byte_offset=offset,
            frames=segment.frames,
            codec=segment.codec,
            width=segment.width,
            height=segment.height,
        )

    def _file_for(self, tenant: str, camera_id: str, hour: int, start_ms: int) -> HourFile:
        current = self._files.get((tenant, camera_id))
        if current is not None and current.hour_ms == hour:
            # After a pause the file's row may look abandoned to another node's sweep:
            # touched again before the append, never after.
            if now_ms() - current.touched_ms > self.orphan_after_ms / 2:
                self._open_files.touch([current])
            return current
        if current is not None:
            self._ending.append(current)
        file = HourFile(
            hour_file_key(tenant, camera_id, start_ms, self._run_id), tenant, camera_id, hour
        )
        self._open_files.touch([file])  # listed before its first byte
        self._files[(tenant, camera_id)] = file
        return file

    def commit(self, rows: list[SegmentRow]) -> None:
        """Make stored segments durable, then index them all in one transaction, with the
        open-file rows of their files refreshed and those of finished files deleted."""
        written = {row.media_key for row in rows}
        now = now_ms()
        for camera, file in list(self._files.items()):
            # An hour that is over, and none of its file waits in this batch: the camera
            # stopped or moved on, so its file is complete (no descriptor kept for it).
            if file.key not in written and file.hour_ms + HOUR_MS <= now:
                self._ending.append(self._files.pop(camera))
        if not rows and not self._ending:
            return
        self.media.sync(written)
        ending = list(self._ending)
        still_open = [f for f in self._files.values() if f.key in written]
        with self.index.engine.begin() as c:
            self.index.add(rows, c)
            self._open_files.touch(still_open, c)
            self._open_files.complete([f.key for f in ending], c)
        for file in ending:
            self.media.end_append(file.key)
        self._ending = self._ending[len(ending) :]
        with self._lock:
            self.stats.segments += len(rows)
            self.stats.bytes += sum(row.bytes for row in rows)
        if time.monotonic() - self._swept_at > SWEEP_EVERY_S:
            self.sweep()

    def _end_all(self) -> None:
        """Every file is done with (the writer stops): the next commit delists them."""
        self._ending.extend(self._files.values())
        self._files.clear()

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
            if item is None:
                self._end_all()
                try:
                    self.commit([])
                except Exception as exc:  # their rows stay: the next start sweeps them
                    self._failed("closing the hour files", exc)
                return
            if isinstance(item, threading.Event):
                item.set()

    def _failed(self, what: str, exc: Exception) -> None:
        log.exception("recording: %s failed", what)
        with self._lock:
            self.stats.errors += 1
            self.stats.last_error = f"{what} failed: {exc}"
