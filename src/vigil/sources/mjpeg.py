"""JPEG frames from an MJPEG (multipart/x-mixed-replace) HTTP stream."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import httpx

from vigil.sources.base import NOT_A_VIDEO_STREAM, SourceError, SourceOptions
from vigil.sources.httpio import http_reason
from vigil.sources.multipart import MultipartSplitter


class MjpegStream:
    """Splits an open streaming response into JPEGs; None when the camera ends the stream.

    The response stays owned (and closed) by the HTTP source that opened it.
    """

    def __init__(
        self, response: httpx.Response, boundary: str, shown: str, options: SourceOptions
    ) -> None:
        self._chunks: Iterator[bytes] = response.iter_bytes()
        self._splitter = MultipartSplitter(boundary)
        self._pending: deque[bytes] = deque()
        self._shown = shown
        self._options = options

    def next_jpeg(self) -> bytes | None:
        while not self._pending:
            try:
                chunk = next(self._chunks, None)
            except httpx.HTTPError as exc:
                raise SourceError(
                    f"lost {self._shown}: {http_reason(exc, self._options)}"
                ) from None
            if chunk is None:
                return None
            try:
                parts = self._splitter.feed(chunk)
            except ValueError as exc:
                raise SourceError(
                    f"{self._shown} is not a valid MJPEG stream: {exc}", NOT_A_VIDEO_STREAM
                ) from None
            self._pending.extend(part for part in parts if part)
        return self._pending.popleft()
