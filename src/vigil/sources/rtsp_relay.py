"""FFmpeg's RTSP connection to a tenant's camera, relayed so that the camera cannot redirect it.

FFmpeg's RTSP client follows a `3xx` answer to wherever its `Location` points, without a hook
for the caller: a hostile camera on an allowed address could send the server on to loopback or
the metadata service. So a tenant's RTSP camera is not given to FFmpeg directly. FFmpeg talks
to this relay on a loopback port it alone is told; the relay connects to the address the
source policy checked (doing TLS itself for rtsps), passes FFmpeg's requests through
unchanged and reads every message the camera sends back before passing it on: a redirect
(a `3xx` answer or a REDIRECT request) is never passed on, the connection is closed and the
camera is "refused by policy". Interleaved RTP (`$` frames, FFmpeg reads over TCP) is passed
on whole, checked only for its framing.
"""

from __future__ import annotations

import logging
import selectors
import socket
import ssl
import threading

log = logging.getLogger(__name__)

_HEADER_LIMIT = 64 * 1024  # an RTSP header larger than this is not a camera's
_CHUNK = 64 * 1024


class _Refused(Exception):
    """The camera sent what must not reach FFmpeg; the message says what."""


class ServerStream:
    """Splits what the camera sends into whole RTSP messages and `$` frames, and refuses
    redirects. `feed` returns the bytes that may be passed on to FFmpeg now."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        ready = 0
        while True:
            size = self._unit(memoryview(self._buffer)[ready:])
            if size is None:
                break
            ready += size
        out = bytes(self._buffer[:ready])
        del self._buffer[:ready]
        return out

    def _unit(self, data: memoryview) -> int | None:
        """The size of the complete unit at the start of `data`, None if it is incomplete."""
        if not data:
            return None
        if data[0] == 0x24:  # "$", channel, 16-bit length: interleaved RTP/RTCP
            if len(data) < 4:
                return None
            size = 4 + int.from_bytes(data[2:4], "big")
            return size if len(data) >= size else None
        end = bytes(data[:_HEADER_LIMIT]).find(b"\r\n\r\n")
        if end < 0:
            if len(data) >= _HEADER_LIMIT:
                raise _Refused("an RTSP header without an end")
            return None
        header = bytes(data[:end]).decode("latin-1")
        _check(header)
        size = end + 4 + _content_length(header)
        return size if len(data) >= size else None


def _check(header: str) -> None:
    first = header.split("\r\n", 1)[0]
    words = first.split()
    if first.startswith("RTSP/") and len(words) >= 2 and words[1].isdigit():
        if 300 <= int(words[1]) < 400:
            raise _Refused(f"a redirect ({words[1]})")
    elif words and words[0].upper() == "REDIRECT":
        raise _Refused("a REDIRECT request")


def _content_length(header: str) -> int:
    for line in header.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            value = value.strip()
            if not value.isdigit() or int(value) > _HEADER_LIMIT:
                raise _Refused(f"an invalid Content-Length {value[:20]!r}")
            return int(value)
    return 0


class RtspRelay:
    """One FFmpeg connection to one checked camera address. `start` returns the loopback
    port to give FFmpeg; after a failure, `refused` or `error` says what happened."""

    def __init__(
        self, address: str, port: int, *, tls: bool, server_name: str, timeout_s: float
    ) -> None:
        self._target = (address, port)
        self._tls = tls
        self._server_name = server_name
        self._timeout_s = timeout_s
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._listener.settimeout(timeout_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtsp-relay", daemon=True)
        self.refused: str | None = None
        self.error: str | None = None

    def start(self) -> int:
        self._thread.start()
        return int(self._listener.getsockname()[1])

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(self._timeout_s + 1.0)

    def _run(self) -> None:
        try:
            client, peer = self._listener.accept()
        except OSError:
            return
        finally:
            self._listener.close()  # one connection: nobody else gets in afterwards
        with client:
            if peer[0] != "127.0.0.1":
                return
            try:
                server = self._connect()
            except OSError as error:
                self.error = error.strerror or type(error).__name__
                return
            with server:
                self._pump(client, server)

    def _connect(self) -> socket.socket:
        raw = socket.create_connection(self._target, timeout=self._timeout_s)
        if not self._tls:
            return raw
        # As FFmpeg does by default (tls_verify=0): cameras carry self-signed certificates.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            return context.wrap_socket(raw, server_hostname=self._server_name)
        except OSError:
            raw.close()
            raise

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        stream = ServerStream()
        client.settimeout(self._timeout_s)
        server.settimeout(self._timeout_s)
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(server, selectors.EVENT_READ)
            while not self._stop.is_set():
                # TLS may hold decrypted bytes the socket no longer signals.
                pending = isinstance(server, ssl.SSLSocket) and server.pending() > 0
                ready = [key.fileobj for key, _ in selector.select(0 if pending else 0.5)]
                if pending and server not in ready:
                    ready.append(server)
                try:
                    for side in ready:
                        if side is client:
                            data = client.recv(_CHUNK)
                            if not data:
                                return
                            server.sendall(data)
                        else:
                            data = server.recv(_CHUNK)
                            if not data:
                                return
                            client.sendall(stream.feed(data))
                except _Refused as refusal:
                    self.refused = str(refusal)
                    log.warning("RTSP camera %s:%s sent %s; closed", *self._target, refusal)
                    return
                except OSError:
                    return
