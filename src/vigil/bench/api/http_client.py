"""The benchmark's HTTP client: one keep-alive HTTP/1.1 connection per simulated user, GET only.

On a two-core machine the clients share the cores with the node they measure; httpx spent
about 3.5 ms of CPU per request here, a third of what the node spends answering it. This client
spends a small fraction of that (docs/benchmarks.md), so the figures describe the node rather
than the load generator. It speaks only what the node answers: a status line, headers, and a
body of `Content-Length` bytes or in chunks.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

HEADER_END = b"\r\n\r\n"


class HttpError(Exception):
    """The node answered something this client does not read (or closed the connection)."""


class Connection:
    """A keep-alive connection to 127.0.0.1:`port` sending fixed headers with every request."""

    def __init__(self, port: int, headers: dict[str, str], timeout_s: float = 60.0) -> None:
        self._port = port
        self._fixed = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._timeout_s = timeout_s
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str, params: dict[str, Any]) -> tuple[int, bytes]:
        """GET `path` with `params` (lists repeat the parameter); the status and the body."""
        target = f"{path}?{urlencode(params, doseq=True)}" if params else path
        request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self._fixed}\r\n".encode()
        return await asyncio.wait_for(self._exchange(request), self._timeout_s)

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self._port)
        reader, writer = self._streams
        writer.write(request)
        try:
            head = await reader.readuntil(HEADER_END)
        except asyncio.IncompleteReadError:
            await self.close()
            raise HttpError("the node closed the connection") from None
        status, headers = _parse_head(head)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await _read_chunks(reader)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise HttpError(f"not an HTTP status line: {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are sent: the final empty line
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)
