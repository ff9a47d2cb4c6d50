"""RTSP cameras: a real GStreamer RTSP server, read over TCP, killed and brought back."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from itertools import pairwise

import pytest

from tests.sources.readers import Collector
from tests.sources.rtsp_process import RtspServerProcess
from tests.waiting import wait_until
from vigil.sources import CameraReader


@pytest.mark.rtsp
def test_rtsp_camera_goes_down_and_comes_back(rtsp_server: RtspServerProcess) -> None:
    collector = Collector()
    reader = CameraReader("street", rtsp_server.url, 5.0, collector, backoff_max_s=1.0)
    reader.start()
    try:
        wait_until(lambda: reader.status.frames_read >= 20, 15, what="frames over RTSP")
        wait_until(lambda: 7 <= reader.status.input_fps <= 13, 5, what="the clip's 10 fps")
        status = reader.status
        assert status.online and status.last_error is None
        assert 0.3 <= status.frames_sampled / status.frames_read <= 0.7
        assert status.width is not None and status.height is not None

        rtsp_server.kill()
        wait_until(lambda: not reader.status.online, 10, what="the reader to notice")
        wait_until(lambda: reader.status.last_error is not None, 5, what="an error")
        down = reader.status
        assert rtsp_server.url in (down.last_error or "")

        rtsp_server.start()  # same port
        before = down.frames_sampled
        wait_until(lambda: reader.status.frames_sampled >= before + 5, 20, what="frames again")
        up = reader.status
        assert up.online and up.reconnects >= 1
        started = time.monotonic()
        reader.stop()
        assert time.monotonic() - started < 1.5 and reader.finished
    finally:
        reader.stop()
    frames = collector.frames
    assert all(b.seq == a.seq + 1 and b.ts_ms > a.ts_ms for a, b in pairwise(frames))
    # Stamped at receipt, sampled at 5 fps: about 200 ms apart (one gap is the outage).
    steps = sorted(b.ts_ms - a.ts_ms for a, b in pairwise(frames))
    assert 150 <= steps[len(steps) // 2] <= 250
    assert rtsp_server.stop() == 0  # SIGTERM ends the server cleanly


def test_rtsp_connection_refused_is_reported_quickly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"rtsp://127.0.0.1:{port}/x"
    reader = CameraReader("x", url, 5.0, Collector())
    started = time.monotonic()
    reader.start()
    wait_until(lambda: reader.status.last_error is not None, 5, what="an error")
    assert time.monotonic() - started < 3
    reader.stop()
    assert reader.status.last_error == f"cannot connect to {url}: Connection refused"
    assert not reader.status.online and reader.status.frames_read == 0


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung camera)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []

    def accept() -> None:
        try:
            while True:
                accepted.append(listener.accept()[0])
        except OSError:
            return  # the listener was closed

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in accepted:
        conn.close()


def test_rtsp_camera_that_never_answers_times_out(silent_server: int) -> None:
    url = f"rtsp://127.0.0.1:{silent_server}/x"
    reader = CameraReader("x", url, 5.0, Collector(), open_timeout_s=1.0)
    started = time.monotonic()
    reader.start()
    wait_until(lambda: reader.status.last_error is not None, 5, what="an error")
    assert time.monotonic() - started < 3
    reader.stop()
    assert reader.status.last_error == f"cannot connect to {url}: no answer within 1 s"
