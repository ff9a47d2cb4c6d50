"""Fixtures for recording tests: a real store and media directory, a recording service, and
clips recorded through a real CameraReader (the same path a running camera takes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.databases import database_url
from tests.media import FACE_PHOTO
from tests.security.conftest import World, make_world
from vigil.config import CameraConfig, RecordingConfig, parse_camera
from vigil.recording.crypto import new_key
from vigil.recording.index import SegmentRow
from vigil.recording.keywrap import KeyWrap
from vigil.recording.service import RecordingService
from vigil.sources import CameraReader
from vigil.store import EventStore, LocalMediaStore
from vigil.store.media import MediaStore

Record = Callable[[CameraConfig], list[object]]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    event_store = EventStore(database_url(tmp_path))
    event_store.migrate()
    yield event_store
    event_store.close()


@pytest.fixture
def media(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


@pytest.fixture
def recording(store: EventStore, media: LocalMediaStore) -> Iterator[RecordingService]:
    service = RecordingService(
        store.engine, media, RecordingConfig(mode="continuous"), fresh_wrap()
    )
    yield service
    service.writer.close()


def sealed_of(media: MediaStore, row: SegmentRow) -> bytes:
    """The sealed bytes the index row names: its range of its camera-hour file."""
    sealed = media.read_range(row.media_key, row.byte_offset, row.bytes)
    assert sealed is not None, f"{row.media_key} holds no {row.bytes} bytes at {row.byte_offset}"
    return sealed


def fresh_wrap() -> KeyWrap:
    """A master key of its own for each test's recordings (a key file's, in production)."""
    return KeyWrap(new_key())


def record_file(service: RecordingService, camera: CameraConfig) -> int:
    """Records a file camera once, as fast as it decodes, through a real CameraReader that
    analyses at the camera's (low) analysis_fps; returns how many frames analysis sampled."""
    sampled: list[int] = []
    recorder = service.start_camera(camera)
    reader = CameraReader(
        camera.id,
        camera.url,
        camera.analysis_fps,
        lambda frame: sampled.append(frame.seq),
        loop=False,
        realtime=False,
        packets=recorder,
    )
    reader.start()
    assert reader.join(120), "the reader did not finish the clip"
    service.stop_camera(camera.id)
    service.writer.flush()
    return len(sampled)


def file_camera(path: Path, camera_id: str = "cam", tenant: str = "default") -> CameraConfig:
    return parse_camera(
        {"id": camera_id, "tenant": tenant, "url": str(path), "analysis_fps": 1, "loop": False}
    )


@pytest.fixture(scope="session")
def face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The crowd photo of the privacy test as 2 s of H.264 video (10 fps, keyframe every
    second): a camera whose recording shows many clear faces."""
    path = tmp_path_factory.mktemp("face-clip") / "faces.mp4"
    read = cv2.imread(str(FACE_PHOTO))
    assert read is not None
    photo = np.ascontiguousarray(
        read[: read.shape[0] // 2 * 2, : read.shape[1] // 2 * 2], dtype=np.uint8
    )
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height = photo.shape[1], photo.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": "10", "crf": "18"}
        for index in range(20):
            frame = av.VideoFrame.from_ndarray(photo, format="bgr24")
            frame.pts = index
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


RECORDED_CAMERA = "alpha:gate"


@pytest.fixture
def recorded(tmp_path: Path, face_clip: Path) -> Iterator[tuple[World, int, int]]:
    """Tenant alpha's world (tests/security) with the face clip recorded as its camera
    `alpha:gate`: the world, and the start and end of what was recorded."""
    world = make_world(tmp_path)
    service = RecordingService(
        world.store.engine,
        world.media,
        RecordingConfig(mode="continuous"),
        KeyWrap.from_config(world.config),
    )
    record_file(service, file_camera(face_clip, RECORDED_CAMERA, "alpha"))
    service.writer.close()
    rows = service.index.between(RECORDED_CAMERA, 0, 2**62, None)
    assert rows, "the face clip should have been recorded"
    yield world, rows[0].start_ms, rows[-1].end_ms
    world.store.close()
