"""Live JPEG, the MJPEG stream on a real server, and module stats."""

from __future__ import annotations

import threading
import time

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from .conftest import StaticEngine


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_live_jpeg(client: TestClient, engine: StaticEngine) -> None:
    waiting = client.get("/api/cameras/gate/live.jpg")
    assert waiting.status_code == 503 and "not delivered a frame" in waiting.json()["detail"]
    assert waiting.headers["cache-control"] == "no-store"
    engine.set_frame("gate", 1000, width=640, height=480)
    response = client.get("/api/cameras/gate/live.jpg", params={"overlay": "false", "t": "123"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    assert decode(response.content).shape == (480, 640, 3)
    small = client.get("/api/cameras/gate/live.jpg", params={"width": 160})
    assert decode(small.content).shape == (120, 160, 3)


@pytest.mark.parametrize(
    ("url", "status", "named"),
    [
        ("/api/cameras/nowhere/live.jpg", 404, "nowhere"),
        ("/api/cameras/gate/live.jpg?width=1", 422, "width"),
        ("/api/cameras/gate/live.jpg?width=99999", 422, "width"),
        ("/api/cameras/gate/live.jpg?overlay=maybe", 422, "overlay"),
        ("/api/cameras/Gate!/live.jpg", 422, "camera_id"),
        ("/api/cameras/nowhere/live.mjpeg", 404, "nowhere"),
        ("/api/cameras/gate/live.mjpeg?fps=nan", 422, "fps"),
        ("/api/cameras/gate/live.mjpeg?fps=fast", 422, "fps"),
        ("/api/cameras/nowhere/stats", 404, "nowhere"),
    ],
)
def test_live_errors(client: TestClient, url: str, status: int, named: str) -> None:
    response = client.get(url)
    assert response.status_code == status and named in response.json()["detail"]


def test_stats(client: TestClient) -> None:
    response = client.get("/api/cameras/gate/stats")
    assert response.status_code == 200
    assert response.json()["line"]["door"]["person"] == {"in": 3, "out": 5}


def read_part(stream: httpx.Response, chunks: object, buffer: bytearray) -> bytes:
    """The next JPEG of a multipart/x-mixed-replace body."""
    while True:
        start = buffer.find(b"--vigil-frame\r\n")
        header_end = buffer.find(b"\r\n\r\n", start)
        if start >= 0 and header_end >= 0:
            headers = bytes(buffer[start:header_end]).decode("ascii").split("\r\n")
            length = int(next(h for h in headers if h.lower().startswith("content-length"))
                         .split(":")[1])
            body_start = header_end + 4
            if len(buffer) >= body_start + length + 2:
                part = bytes(buffer[body_start : body_start + length])
                del buffer[: body_start + length + 2]
                return part
        buffer.extend(next(chunks))  # type: ignore[call-overload]


def test_mjpeg_sends_only_new_frames_and_stops_on_disconnect(
    live_url: str, engine: StaticEngine
) -> None:
    engine.set_frame("gate", 1000)
    url = f"{live_url}/api/cameras/gate/live.mjpeg?fps=1000&width=200"  # fps is clamped to 15
    with httpx.Client(timeout=10) as http, http.stream("GET", url) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "multipart/x-mixed-replace; boundary=vigil-frame"
        assert stream.headers["cache-control"] == "no-store"
        chunks = stream.iter_raw()
        buffer = bytearray()
        first = read_part(stream, chunks, buffer)
        assert decode(first).shape[1] == 200
        # The frame does not change for a while: no new part may arrive meanwhile.
        got_second = threading.Event()
        seconds = []

        def read_second() -> None:
            seconds.append(read_part(stream, chunks, buffer))
            got_second.set()

        reader = threading.Thread(target=read_second, daemon=True)
        reader.start()
        assert not got_second.wait(0.5)
        engine.set_frame("gate", 2000)
        assert got_second.wait(5)
        assert seconds[0] != first
    calls = engine.live_calls
    time.sleep(0.5)
    assert engine.live_calls - calls <= 2  # the server stopped polling the engine
