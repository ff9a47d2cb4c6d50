"""Recording a real RTSP camera (GStreamer server, the bundled clip) through a power cut: the
outage shows as a gap on the timeline, and every stored segment decodes whole."""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.media import CLIP
from tests.recording.conftest import fresh_wrap, sealed_of
from tests.sources.rtsp_process import RtspServerProcess, rtsp_server_unavailable
from vigil.config import RecordingConfig, parse_camera
from vigil.recording.archive import merge_ranges
from vigil.recording.crypto import unseal
from vigil.recording.index import SegmentRow
from vigil.recording.service import RecordingService
from vigil.sources import CameraReader
from vigil.store import EventStore, LocalMediaStore

FAR = 2**62


@pytest.fixture
def rtsp(tmp_path: Path) -> Iterator[RtspServerProcess]:
    reason = rtsp_server_unavailable()
    if reason is not None:
        pytest.skip(reason)
    server = RtspServerProcess(CLIP, log_path=tmp_path / "rtsp.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_for_segments(service: RecordingService, count: int, after_ms: int = 0) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = service.index.between("street", after_ms, FAR, None)
        if len([r for r in rows if r.start_ms >= after_ms]) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} segments recorded within 60 s")


def decoded_frames(service: RecordingService, media: LocalMediaStore, row: SegmentRow) -> int:
    key = service.keys.key(row.tenant, row.camera_id, row.hour_ms)
    assert key is not None
    plain = unseal(key, sealed_of(media, row), row.media_key, row.id)
    with av.open(io.BytesIO(plain), mode="r", format="mpegts") as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_reconnect_leaves_a_gap_and_no_corrupt_segment(
    rtsp: RtspServerProcess, store: EventStore, media: LocalMediaStore, tmp_path: Path
) -> None:
    service = RecordingService(
        store.engine, media, RecordingConfig(mode="continuous", segment_s=2), fresh_wrap()
    )
    camera = parse_camera({"id": "street", "url": rtsp.url, "analysis_fps": 2})
    recorder = service.start_camera(camera)
    reader = CameraReader(
        camera.id,
        camera.url,
        camera.analysis_fps,
        lambda frame: None,
        packets=recorder,
        open_timeout_s=2,
        read_timeout_s=2,
        backoff_initial_s=0.2,
        backoff_max_s=0.5,
    )
    reader.start()
    try:
        wait_for_segments(service, 2)
        port = rtsp.port
        rtsp.kill()  # the camera loses power
        cut_ms = int(time.time() * 1000)
        time.sleep(4)
        revived = RtspServerProcess(CLIP, log_path=tmp_path / "rtsp2.log", port=port)
        revived.start()
        try:
            wait_for_segments(service, 2, after_ms=cut_ms)
        finally:
            reader.stop()
            service.stop_camera(camera.id)
            service.writer.flush()
            revived.stop()
    finally:
        reader.stop()
        service.writer.close()

    rows = service.index.between("street", 0, FAR, None)
    ranges = merge_ranges(rows)
    assert len(ranges) >= 2, "the outage must show as a gap"
    gaps = [after.start_ms - before.end_ms for before, after in itertools.pairwise(ranges)]
    assert max(gaps) >= 3_000, f"a 4 s outage should leave a gap of seconds, got {gaps}"
    for row in rows:
        assert decoded_frames(service, media, row) == row.frames, f"{row.media_key} is damaged"
