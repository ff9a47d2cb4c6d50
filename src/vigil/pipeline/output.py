"""Event output: store each snapshot face-blurred, then publish the event that refers to it.

One thread does both in order, so an event is never published before its snapshot exists, and
the queue in front of it is bounded: if redaction falls behind, the pipeline waits rather than
losing an event.

Messages ready while more wait in the queue are published together (`publish_many`: on NATS a
few batch envelopes instead of a JetStream message and acknowledgement each, which is what
bounds ingest when every message travels alone); a lone message goes at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from vigil.bus import Bus
from vigil.config import PrivacyMaskConfig
from vigil.domain.events import EventMessage
from vigil.domain.frames import DeviceImage
from vigil.pipeline.lifecycle import SnapshotRequest
from vigil.privacy.masks import AttributePolicy, apply_masks
from vigil.privacy.redact import FaceRedactor
from vigil.privacy.redact_tensor import redacted_on_device
from vigil.store.media import MediaStore
from vigil.vision.ocr import SceneTextReader
from vigil.vision.overlay import draw_box, encode_jpeg

log = logging.getLogger(__name__)
PUBLISH_RETRY_S = 0.25
PUBLISH_RETRY_MAX_S = 10.0
PUBLISH_BATCH = 500  # messages published in one call, at most
PUBLISH_DELAY_S = 0.1  # how long a ready message waits for others queued behind it, at most

_Job = tuple[EventMessage, SnapshotRequest | None]


class EventOutput:
    def __init__(
        self,
        bus: Bus,
        media: MediaStore,
        redactor: FaceRedactor,
        max_pending: int = 256,
        *,
        masks: Callable[[str], Sequence[PrivacyMaskConfig]] | None = None,
        attributes: AttributePolicy | None = None,
        ocr: SceneTextReader | None = None,
    ):
        self.bus = bus
        self.media = media
        self.redactor = redactor
        # Privacy: a camera's static masks are blacked out before redaction and encoding;
        # person attributes the tenant does not allow are dropped before publication.
        self.masks = masks
        self.attributes = attributes
        # Scene text (OCR) on the face-blurred snapshot's object crop, before publication.
        self.ocr = ocr
        self.published = 0
        self.lost = 0  # refused by the bus while stopping
        self._closing = False
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
        """Finish everything submitted, then stop (without retrying a bus that still refuses:
        those events are counted in `lost` and logged)."""
        self._closing = True
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        ready: list[EventMessage] = []
        oldest = 0.0
        while True:
            try:
                # Waits only when nothing is ready; otherwise takes what is queued already.
                item = self._queue.get(block=not ready)
            except queue.Empty:  # nothing more behind them: publish what is ready
                self._publish(ready)
                ready = []
                continue
            if item is None:
                self._publish(ready)
                return
            message, snapshot = item
            if self.attributes is not None:
                self.attributes.scrub(message.event)
            if snapshot is not None:
                self._store_snapshot(message, snapshot)
            if self.ocr is not None:
                self.ocr.carry(message.event)  # text read from an earlier snapshot of the event
            if not ready:
                oldest = time.monotonic()
            ready.append(message)
            if len(ready) >= PUBLISH_BATCH or time.monotonic() - oldest > PUBLISH_DELAY_S:
                self._publish(ready)
                ready = []

    def _publish(self, messages: list[EventMessage]) -> None:
        """Publish, retrying while the bus refuses (NATS unreachable, no stream leader): the
        pipeline keeps going and its events wait here, in order, behind the bounded queue."""
        if not messages:
            return
        delay = PUBLISH_RETRY_S
        first = messages[0]
        while True:
            try:
                # Again, the same messages make the same envelopes, which NATS stores once.
                self.bus.publish_many(messages)
                self.published += len(messages)
                return
            except Exception as error:
                if self._closing:
                    self.lost += len(messages)
                    for message in messages:
                        log.error("stopping: could not publish event %s (%s): %s",
                                  message.event.id, message.phase, error)
                    return
                log.warning("could not publish %d event message(s) from %s, retrying in %.1f s: "
                            "%s", len(messages), first.event.id, delay, error)
                time.sleep(delay)
                delay = min(delay * 2, PUBLISH_RETRY_MAX_S)

    def _store_snapshot(self, message: EventMessage, request: SnapshotRequest) -> None:
        try:
            image = self._redacted(request, message.event.camera_id)
            if self.ocr is not None:
                self._read_text(message, image, request)
            if request.box is not None:
                draw_box(image, request.box)
            self.media.put(request.key, encode_jpeg(image, quality=80), "image/jpeg")
            self.snapshots += 1
        except Exception:
            # The event is worth more than its picture: publish it without one.
            log.exception("could not store snapshot %s", request.key)
            self.snapshot_errors += 1
            message.event.snapshot = None

    def _read_text(
        self, message: EventMessage, image: np.ndarray, request: SnapshotRequest
    ) -> None:
        assert self.ocr is not None
        try:
            self.ocr.read(message.event, image, request.box)
        except Exception:  # the text is a bonus: never lose the snapshot or event over it
            log.exception("scene text failed on snapshot %s", request.key)

    def _redacted(self, request: SnapshotRequest, camera_id: str) -> np.ndarray:
        # Events of the same frame (a person entering a zone while crossing a line) share one
        # redaction pass; the copy keeps each snapshot's box drawing to itself.
        cached = self._last_redacted
        if cached is not None and cached[0] == id(request.image) and cached[1] == request.frame_seq:
            return cached[2].copy()
        masks = self.masks(camera_id) if self.masks is not None else ()
        source = request.image
        if isinstance(source, DeviceImage):  # redacted on the GPU, then copied
            redacted, _scale = redacted_on_device(source, masks, self.redactor.detector)
        else:
            image = apply_masks(source.copy(), masks) if masks else source
            redacted = self.redactor.redact(image)
        self._last_redacted = (id(request.image), request.frame_seq, redacted)
        return redacted.copy()
