"""Event output: store each snapshot face-blurred, then publish the event that refers to it.

One thread does both in order, so an event is never published before its snapshot exists, and
the queue in front of it is bounded: if redaction falls behind, the pipeline waits rather than
losing an event.
"""

from __future__ import annotations

import logging
import queue
import threading

import numpy as np

from vigil.bus import Bus
from vigil.events import EventMessage
from vigil.pipeline.lifecycle import SnapshotRequest
from vigil.privacy.redact import FaceRedactor
from vigil.store.media import MediaStore
from vigil.vision.overlay import draw_box, encode_jpeg

log = logging.getLogger(__name__)

_Job = tuple[EventMessage, SnapshotRequest | None]


class EventOutput:
    def __init__(self, bus: Bus, media: MediaStore, redactor: FaceRedactor, max_pending: int = 256):
        self.bus = bus
        self.media = media
        self.redactor = redactor
        self.published = 0
        self.snapshots = 0
        self.snapshot_errors = 0
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_pending)
        self._last_redacted: tuple[int, int, np.ndarray] | None = None  # id(image), seq, result
        self._thread = threading.Thread(target=self._run, name="event-output", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def submit(self, message: EventMessage, snapshot: SnapshotRequest | None) -> None:
        self._queue.put((message, snapshot))

    def close(self) -> None:
        """Finish everything submitted, then stop."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            message, snapshot = item
            if snapshot is not None:
                self._store_snapshot(message, snapshot)
            self.bus.publish(message)
            self.published += 1

    def _store_snapshot(self, message: EventMessage, request: SnapshotRequest) -> None:
        try:
            image = self._redacted(request)
            if request.box is not None:
                draw_box(image, request.box)
            self.media.put(request.key, encode_jpeg(image, quality=80), "image/jpeg")
            self.snapshots += 1
        except Exception:
            # The event is worth more than its picture: publish it without one.
            log.exception("could not store snapshot %s", request.key)
            self.snapshot_errors += 1
            message.event.snapshot = None

    def _redacted(self, request: SnapshotRequest) -> np.ndarray:
        # Events of the same frame (a person entering a zone while crossing a line) share one
        # redaction pass; the copy keeps each snapshot's box drawing to itself.
        cached = self._last_redacted
        if cached is not None and cached[0] == id(request.image) and cached[1] == request.frame_seq:
            return cached[2].copy()
        redacted = self.redactor.redact(request.image)
        self._last_redacted = (id(request.image), request.frame_seq, redacted)
        return redacted.copy()
