"""A real HTTP camera on 127.0.0.1 for tests: MJPEG stream, snapshot URL, and bad answers.

Paths:
  /snapshot.jpg           one JPEG per request (the next frame each time)
  /mjpeg                  multipart/x-mixed-replace at `fps`, endless
  /mjpeg?frames=N         the same, but the camera ends the stream after N frames
  /mjpeg-nolength         parts without Content-Length headers, LF line ends
  /page                   an HTML page (not a camera)
  anything else           404
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.sources.clips import frame_image, jpeg_bytes

BOUNDARY = "vigilframe"


class HttpCamera:
    def __init__(self, fps: float = 10.0, frames: int = 20) -> None:
        self.fps = fps
        self.jpegs = [jpeg_bytes(frame_image(i)) for i in range(frames)]
        self.snapshot_requests = 0
        self.stream_requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _count(self, attr: str) -> int:
        with self._lock:
            value = getattr(self, attr) + 1
            setattr(self, attr, value)
            return value

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet: test output should show failures, not access logs."""

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                if url.path == "/snapshot.jpg":
                    n = camera._count("snapshot_requests")
                    self._send(200, "image/jpeg", camera.jpegs[n % len(camera.jpegs)])
                elif url.path in ("/mjpeg", "/mjpeg-nolength"):
                    camera._count("stream_requests")
                    limit = int(query["frames"][0]) if "frames" in query else None
                    self._stream(with_length=url.path == "/mjpeg", limit=limit)
                elif url.path == "/page":
                    self._send(200, "text/html", b"<html>login</html>")
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, code: int, content_type: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, *, with_length: bool, limit: int | None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                eol = b"\r\n" if with_length else b"\n"
                sent = 0
                try:
                    while limit is None or sent < limit:
                        jpeg = camera.jpegs[sent % len(camera.jpegs)]
                        head = b"--" + BOUNDARY.encode() + eol + b"Content-Type: image/jpeg" + eol
                        if with_length:
                            head += f"Content-Length: {len(jpeg)}".encode() + eol
                        self.wfile.write(head + eol + jpeg + eol)
                        self.wfile.flush()
                        sent += 1
                        time.sleep(1.0 / camera.fps)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the reader went away, as readers do

        return Handler


@contextmanager
def running_http_camera(fps: float = 10.0) -> Iterator[HttpCamera]:
    camera = HttpCamera(fps=fps)
    camera.start()
    try:
        yield camera
    finally:
        camera.stop()
