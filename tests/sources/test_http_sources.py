"""HTTP cameras (MJPEG streams and snapshot URLs) against a real server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from itertools import pairwise

import pytest

from tests.sources.clips import frame_index
from tests.sources.http_camera import HttpCamera
from tests.sources.readers import Collector
from tests.waiting import wait_until
from vigil.sources import CameraReader


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_for(reader: CameraReader, seconds: float) -> None:
    reader.start()
    time.sleep(seconds)
    reader.stop()


def test_mjpeg_stream_is_read_and_sampled(http_camera: HttpCamera) -> None:
    collector = Collector()
    reader = CameraReader("gate", f"{http_camera.base_url}/mjpeg", 5.0, collector)
    reader.start()
    wait_until(lambda: reader.status.frames_read >= 16, 10, what="16 frames read")
    status = reader.status
    reader.stop()
    assert status.online and status.last_error is None
    assert 6 <= status.input_fps <= 14
    assert 0.3 <= status.frames_sampled / status.frames_read <= 0.7
    assert (status.width, status.height) == (320, 240)
    frames = collector.frames
    indices = [frame_index(f.image) for f in frames]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    assert all(b.seq == a.seq + 1 for a, b in pairwise(frames))


def test_mjpeg_without_content_length_and_lf_line_ends(http_camera: HttpCamera) -> None:
    collector = Collector()
    reader = CameraReader("gate", f"{http_camera.base_url}/mjpeg-nolength", 20.0, collector)
    reader.start()
    wait_until(lambda: len(collector) >= 6, 10, what="6 frames")
    reader.stop()
    assert [frame_index(f.image) for f in collector.frames[:6]] == list(range(6))


def test_mjpeg_reconnects_when_the_camera_ends_the_stream(http_camera: HttpCamera) -> None:
    collector = Collector()
    url = f"{http_camera.base_url}/mjpeg?frames=5"
    reader = CameraReader("gate", url, 10.0, collector, backoff_initial_s=0.1)
    reader.start()
    wait_until(lambda: reader.status.reconnects >= 2, 10, what="two reconnections")
    reader.stop()
    assert http_camera.stream_requests >= 3
    assert reader.status.last_error == f"{url} ended the stream"
    assert len(collector) > 5  # more than the first connection alone delivered


def test_snapshot_url_is_polled_at_the_analysis_rate(http_camera: HttpCamera) -> None:
    collector = Collector()
    reader = CameraReader("lobby", f"{http_camera.base_url}/snapshot.jpg", 4.0, collector)
    run_for(reader, 1.6)
    requests = http_camera.snapshot_requests
    assert 5 <= requests <= 9  # 1.6 s at 4/s, plus the first
    frames = collector.frames
    assert len(frames) in (requests, requests - 1)
    assert all(step >= 150 for step in (b.ts_ms - a.ts_ms for a, b in pairwise(frames)))
    assert frames[0].image.shape == (240, 320, 3)


def test_stopping_a_slowly_polled_snapshot_camera_is_prompt(http_camera: HttpCamera) -> None:
    collector = Collector()
    reader = CameraReader("lobby", f"{http_camera.base_url}/snapshot.jpg", 0.2, collector)
    reader.start()
    wait_until(lambda: len(collector) == 1, 5, what="the first snapshot")
    started = time.monotonic()
    reader.stop()  # the next poll is 5 s away
    assert time.monotonic() - started < 1.0 and reader.finished


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing", "answered HTTP 404 Not Found"),
        ("/page", "answered text/html; expected an MJPEG stream (multipart/x-mixed-replace)"),
    ],
)
def test_http_answers_that_are_not_cameras(
    http_camera: HttpCamera, path: str, message: str
) -> None:
    url = f"{http_camera.base_url}{path}"
    reader = CameraReader("x", url, 5.0, Collector())
    reader.start()
    wait_until(lambda: reader.status.last_error is not None, 5, what="an error")
    reader.stop()
    error = reader.status.last_error or ""
    assert error.startswith(f"{url} {message}")
    assert not reader.status.online


def test_unreachable_http_camera_fails_fast_without_leaking_its_password() -> None:
    port = closed_port()
    reader = CameraReader("x", f"http://admin:hunter2@127.0.0.1:{port}/video", 5.0, Collector())
    started = time.monotonic()
    reader.start()
    wait_until(lambda: reader.status.last_error is not None, 5, what="an error")
    assert time.monotonic() - started < 3
    reader.stop()
    error = reader.status.last_error or ""
    assert error.startswith(f"cannot connect to http://admin:***@127.0.0.1:{port}/video: ")
    assert "refused" in error.lower() and "hunter2" not in error
