"""The recording side of a process that runs cameras: one writer, one recorder per camera,
and the events that open `events`-mode recording."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from vigil.config import CameraConfig, RecordingConfig
from vigil.domain.events import EventMessage
from vigil.domain.frames import now_ms
from vigil.recording.index import SegmentIndex
from vigil.recording.keys import KeyStore
from vigil.recording.keywrap import KeyWrap
from vigil.recording.recorder import CameraRecorder
from vigil.recording.writer import SegmentWriter
from vigil.store.media import MediaStore

log = logging.getLogger(__name__)


class RecordingService:
    def __init__(
        self, engine: sa.Engine, media: MediaStore, config: RecordingConfig, wrap: KeyWrap
    ) -> None:
        self.config = config
        self.keys = KeyStore(engine, wrap)
        self.keys.wrap_legacy()
        self.index = SegmentIndex(engine)
        self.writer = SegmentWriter(media, self.keys, self.index)
        self._recorders: dict[str, CameraRecorder] = {}
        self._lock = threading.Lock()

    def start_camera(self, camera: CameraConfig) -> CameraRecorder | None:
        """The camera's recorder, to feed its reader's packets; None when it records nothing."""
        recorder = CameraRecorder(camera, self.config, self.writer)
        if not recorder.enabled:
            return None
        with self._lock:
            self._recorders[camera.id] = recorder
        return recorder

    def stop_camera(self, camera_id: str) -> None:
        with self._lock:
            recorder = self._recorders.pop(camera_id, None)
        if recorder is not None:
            recorder.closed()  # the reader has stopped: store what the open segment holds

    def state(self, camera_id: str) -> str:
        with self._lock:
            recorder = self._recorders.get(camera_id)
        return "off" if recorder is None else recorder.state()

    def on_event(self, message: EventMessage) -> None:
        event = message.event
        with self._lock:
            recorder = self._recorders.get(event.camera_id)
        if recorder is not None:
            recorder.trigger(event.start_ms, event.end_ms or now_ms())

    def close(self) -> None:
        with self._lock:
            recorders = list(self._recorders)
        for camera_id in recorders:
            self.stop_camera(camera_id)
        self.writer.flush()
        self.writer.close()
