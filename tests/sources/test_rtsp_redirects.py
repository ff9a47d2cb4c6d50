"""A tenant's RTSP camera cannot redirect the server: FFmpeg would follow a `3xx` anywhere,
so it reaches the camera through a relay that refuses redirects ("refused by policy") and
never lets it connect to the target. A real RTSP stream still plays through the relay."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.security.listeners import recording_tcp
from tests.sources.readers import Collector
from tests.sources.rtsp_process import RtspServerProcess
from tests.waiting import wait_until
from vigil.sources import CameraReader
from vigil.sources.base import REFUSED_BY_POLICY
from vigil.sources.policy import SourcePolicy
from vigil.sources.rtsp_relay import ServerStream

# The hostile camera lives on 127.0.0.1, which this policy allows (as a restreamer would be);
# what it redirects to, 127.0.0.2, is loopback like any internal service and stays refused.
POLICY = SourcePolicy(allow_networks=(ipaddress.ip_network("127.0.0.1/32"),))
TARGET_HOST = "127.0.0.2"


class RedirectingCamera:
    """An RTSP server that answers OPTIONS and then redirects DESCRIBE to `location`."""

    def __init__(
        self, location: str, status: int = 302, tls: ssl.SSLContext | None = None
    ) -> None:
        self.location = location
        self.status = status
        self.tls = tls
        self.describes = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        scheme = "rtsps" if self.tls else "rtsp"
        return f"{scheme}://user:pw@127.0.0.1:{self.sock.getsockname()[1]}/stream"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                if self.tls is not None:
                    conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                continue
            with conn:
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        try:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
                while b"\r\n\r\n" in data:
                    request, data = data.split(b"\r\n\r\n", 1)
                    lines = request.decode("latin-1").split("\r\n")
                    cseq = next(
                        (line.split(":", 1)[1].strip() for line in lines
                         if line.lower().startswith("cseq")),
                        "1",
                    )
                    if lines[0].startswith("DESCRIBE"):
                        self.describes += 1
                        conn.sendall(
                            f"RTSP/1.0 {self.status} Moved\r\nCSeq: {cseq}\r\n"
                            f"Location: {self.location}\r\n\r\n".encode()
                        )
                    else:
                        conn.sendall(
                            f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n"
                            "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n".encode()
                        )
        except OSError:
            return


@contextmanager
def served(camera: RedirectingCamera) -> Iterator[None]:
    try:
        yield
    finally:
        camera.stop.set()
        camera.thread.join(2)
        camera.sock.close()


@contextmanager
def reading(url: str, policy: SourcePolicy | None) -> Iterator[CameraReader]:
    reader = CameraReader(
        "cam", url, 5.0, Collector(), policy=policy, backoff_initial_s=0.05,
        backoff_max_s=0.2, open_timeout_s=2.0, read_timeout_s=2.0,
    )
    reader.start()
    try:
        yield reader
    finally:
        reader.stop()


@pytest.mark.parametrize("status", [301, 302, 305])
def test_a_tenants_camera_redirecting_to_loopback_is_refused_and_never_followed(
    status: int,
) -> None:
    with recording_tcp(TARGET_HOST) as target:
        camera = RedirectingCamera(f"rtsp://{TARGET_HOST}:{target.port}/internal", status)
        with served(camera), reading(camera.url, POLICY) as reader:
            wait_until(lambda: reader.status.last_error == REFUSED_BY_POLICY, 15)
            assert camera.describes >= 1  # the camera was asked, and answered with a redirect
            assert target.connections == 0


def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate, as cameras carry."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "camera")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def test_an_rtsps_camera_redirecting_to_loopback_is_refused_too(tmp_path: Path) -> None:
    """For rtsps the relay does TLS itself, so it still reads the camera's answers."""
    with recording_tcp(TARGET_HOST) as target:
        camera = RedirectingCamera(
            f"rtsps://{TARGET_HOST}:{target.port}/internal", tls=self_signed(tmp_path)
        )
        with served(camera), reading(camera.url, POLICY) as reader:
            wait_until(lambda: reader.status.last_error == REFUSED_BY_POLICY, 15)
            assert camera.describes >= 1  # asked over TLS, answered with a redirect
            assert target.connections == 0


def test_control_ffmpeg_on_its_own_does_follow_the_redirect() -> None:
    """The administrator's own cameras (no policy) go to FFmpeg directly, which follows the
    redirect: what the relay prevents is real."""
    with recording_tcp(TARGET_HOST) as target:
        camera = RedirectingCamera(f"rtsp://{TARGET_HOST}:{target.port}/internal")
        with served(camera), reading(camera.url, None):
            wait_until(lambda: target.connections > 0, 15)


def test_a_real_stream_plays_through_the_relay(rtsp_server: RtspServerProcess) -> None:
    collector = Collector()
    reader = CameraReader(
        "cam", rtsp_server.url, 5.0, collector, policy=POLICY,
        open_timeout_s=5.0, read_timeout_s=5.0,
    )
    reader.start()
    try:
        wait_until(lambda: reader.status.frames_read >= 10, 30)
        assert reader.status.online
    finally:
        reader.stop()


def test_interleaved_frames_pass_whole_and_a_redirect_inside_the_stream_is_caught() -> None:
    stream = ServerStream()
    frame = b"$\x00\x00\x05hello"
    answer = b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Length: 4\r\n\r\nv=0\n"
    # Split anywhere, the bytes come out whole and in order.
    out = b"".join(stream.feed(bytes([byte])) for byte in frame + answer)
    assert out == frame + answer
    with pytest.raises(Exception, match="redirect"):
        stream.feed(b"$\x01\x00\x01x" + b"RTSP/1.0 302 Moved\r\nLocation: rtsp://x/\r\n\r\n")
