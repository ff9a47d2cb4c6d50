"""HTTP cameras: an MJPEG stream or a snapshot URL, told apart by the content type."""

from __future__ import annotations

import time
from functools import partial
from typing import Protocol

import httpx

from vigil.domain.source_urls import redact
from vigil.sources.base import NOT_A_VIDEO_STREAM, RawFrame, SourceError, SourceOptions
from vigil.sources.httpio import check_status, http_reason, make_client
from vigil.sources.jpeg import decode_jpeg
from vigil.sources.mjpeg import MjpegStream
from vigil.sources.multipart import boundary_of
from vigil.sources.snapshot import SnapshotPoller


class _JpegFeed(Protocol):
    def next_jpeg(self) -> bytes | None: ...


class HttpSource:
    """One GET decides the mode: multipart/x-mixed-replace is MJPEG (the same response is
    then read as the stream, since cheap cameras often serve one stream client at a time),
    image/* is a snapshot URL (its body is the first frame, later ones are polled)."""

    live = True

    def __init__(self, url: str, options: SourceOptions) -> None:
        self._url = url
        self._shown = redact(url)
        self._options = options
        self._client: httpx.Client | None = None
        self._response: httpx.Response | None = None
        self._feed: _JpegFeed | None = None
        self._fps: float | None = None

    @property
    def nominal_fps(self) -> float | None:
        return self._fps

    def open(self) -> None:
        client = self._client = make_client(self._options)
        try:
            response = client.send(client.build_request("GET", self._url), stream=True)
        except httpx.HTTPError as exc:
            raise SourceError(
                f"cannot connect to {self._shown}: {http_reason(exc, self._options)}"
            ) from None
        self._response = response
        check_status(response, self._shown)
        content_type = response.headers.get("content-type", "")
        boundary = boundary_of(content_type)
        if boundary is not None:
            self._feed = MjpegStream(response, boundary, self._shown, self._options)
        elif content_type.lower().startswith("image/"):
            try:
                first = response.read()
            except httpx.HTTPError as exc:
                raise SourceError(
                    f"cannot fetch {self._shown}: {http_reason(exc, self._options)}"
                ) from None
            self._feed = SnapshotPoller(client, self._url, self._shown, first, self._options)
            self._fps = self._options.analysis_fps
        else:
            raise SourceError(
                f"{self._shown} answered {content_type or 'no content type'}; expected an"
                " MJPEG stream (multipart/x-mixed-replace) or a snapshot image (image/jpeg)",
                NOT_A_VIDEO_STREAM,
            )

    def read(self) -> RawFrame | None:
        if self._feed is None:
            raise SourceError(f"{self._shown} was read before it was opened")
        data = self._feed.next_jpeg()
        if data is None:
            return None
        # HTTP carries no media clock: the time of receipt is the frame's time.
        return RawFrame(pts_s=time.monotonic(), to_bgr=partial(decode_jpeg, data, self._shown))

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None
        if self._client is not None:
            self._client.close()
            self._client = None
        self._feed = None
