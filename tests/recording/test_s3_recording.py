"""Recording into an S3-compatible store (SeaweedFS, as a cluster's workers do): segments are
sealed objects, any reader with the database plays them, and shredding deletes them."""

from __future__ import annotations

from tests.media import CLIP
from tests.recording.conftest import file_camera, fresh_wrap, record_file, sealed_of
from tests.store.test_media import s3_store
from vigil.config import PrivacyConfig, RecordingConfig
from vigil.domain.frames import now_ms
from vigil.recording.crypto import MAGIC
from vigil.recording.keys import HOUR_MS
from vigil.recording.playback import Playback
from vigil.recording.retention import RecordingRetention
from vigil.recording.service import RecordingService
from vigil.services.seaweedfs import SeaweedServer
from vigil.store import EventStore
from vigil.vision.faces import FaceDetector

FAR = 2**62


def test_segments_on_s3_are_sealed_playable_and_shredded(
    seaweed_server: SeaweedServer, store: EventStore
) -> None:
    media = s3_store(seaweed_server, "recordings-test")
    service = RecordingService(
        store.engine, media, RecordingConfig(mode="continuous"), fresh_wrap()
    )
    record_file(service, file_camera(CLIP))
    service.writer.close()
    rows = service.index.between("cam", 0, FAR, None)
    assert rows and service.writer.stats.errors == 0
    for row in rows:
        assert sealed_of(media, row).startswith(MAGIC)

    config = RecordingConfig()
    privacy = PrivacyConfig()
    faces = FaceDetector(privacy.face_model, privacy.face_threshold)
    playback = Playback(service.index, service.keys, media, faces)
    first = next(iter(playback.frames(rows[:1], rows[0].start_ms, rows[0].end_ms, [])))
    assert first.image.shape == (576, 768, 3)

    later = now_ms() + int((config.retention_hours + 2) * HOUR_MS)
    RecordingRetention(store.engine, media, config, clock=lambda: later).run_once()
    assert service.index.between("cam", 0, FAR, None) == []
    assert all(media.read_range(r.media_key, r.byte_offset, r.bytes) is None for r in rows)
    assert media.total_bytes() == 0
