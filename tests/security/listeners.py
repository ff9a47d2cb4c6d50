"""Real local listeners for the source-policy tests: they record whether Vigil called them.

`Listener` is an HTTP server on a loopback address that keeps every request it gets. It
plays three parts: an internal service that must never be contacted (it answers a "secret"),
a hostile camera that redirects elsewhere (`/redirect?to=URL`), and a camera that sends a few
MJPEG frames and then hangs up (`/mjpeg?frames=N`), so the reader reconnects.
`TcpRecorder` counts raw TCP connections (for RTSP, which FFmpeg speaks by itself).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.sources.clips import frame_image, jpeg_bytes

BOUNDARY = "vigilframe"


class Listener:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._jpeg = jpeg_bytes(frame_image(1))
        self._server = ThreadingHTTPServer((host, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    @property
    def hits(self) -> list[str]:
        with self._lock:
            return list(self.requests)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                with listener._lock:
                    listener.requests.append(self.path)
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                if url.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", query["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif url.path == "/mjpeg":
                    self._mjpeg(int(query.get("frames", ["3"])[0]))
                else:
                    body = b"internal secret"
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")  # as a camera would
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def _mjpeg(self, frames: int) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                jpeg = listener._jpeg
                for _ in range(frames):
                    head = (
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(jpeg)}\r\n\r\n"
                    ).encode()
                    self.wfile.write(head + jpeg + b"\r\n")
                self.wfile.flush()

        return Handler


@contextmanager
def listening(host: str = "127.0.0.1") -> Iterator[Listener]:
    listener = Listener(host)
    listener._thread.start()
    try:
        yield listener
    finally:
        listener._server.shutdown()
        listener._server.server_close()


class TcpRecorder:
    """Accepts TCP connections on `host`, counts them and closes them at once."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.connections = 0
        self._sock = socket.socket()
        self._sock.bind((host, 0))
        self._sock.listen()
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()


@contextmanager
def recording_tcp(host: str = "127.0.0.1") -> Iterator[TcpRecorder]:
    recorder = TcpRecorder(host)
    recorder._thread.start()
    try:
        yield recorder
    finally:
        recorder._stop.set()
        recorder._thread.join(2)
        recorder._sock.close()
