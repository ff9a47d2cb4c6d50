"""JPEG frames from a snapshot URL (one image per GET), polled at the analysis rate."""

from __future__ import annotations

import time

import httpx

from vigil.sources.base import NOT_A_VIDEO_STREAM, SourceError, SourceOptions
from vigil.sources.httpio import check_status, http_reason


def fetch_image(client: httpx.Client, url: str, shown: str, options: SourceOptions) -> bytes:
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {shown}: {http_reason(exc, options)}") from None
    check_status(response, shown)
    content_type = response.headers.get("content-type", "")
    if not content_type.lower().startswith("image/"):
        raise SourceError(
            f"{shown} answered {content_type or 'no content type'}, not an image",
            NOT_A_VIDEO_STREAM,
        )
    return response.content


class SnapshotPoller:
    """Fetches one image per analysis period; the first comes from the probing request.

    Polling faster than the analysis rate would only load the camera: every extra image would
    be dropped by the sampler.
    """

    def __init__(
        self,
        client: httpx.Client,
        url: str,
        shown: str,
        first_image: bytes,
        options: SourceOptions,
    ) -> None:
        self._client = client
        self._url = url
        self._shown = shown
        self._pending: bytes | None = first_image
        self._options = options
        self._period_s = 1.0 / options.analysis_fps
        self._due_s = time.monotonic()

    def next_jpeg(self) -> bytes | None:
        if self._pending is not None:
            image, self._pending = self._pending, None
            return image
        self._due_s += self._period_s
        now = time.monotonic()
        if self._due_s < now:
            # A slow camera made us late: poll now and keep the period from here, rather
            # than firing a burst of requests to catch up.
            self._due_s = now
        if self._options.cancel.wait(self._due_s - now):
            return None
        return fetch_image(self._client, self._url, self._shown, self._options)
