"""Incremental splitter for multipart/x-mixed-replace streams (MJPEG over HTTP)."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)


def boundary_of(content_type: str) -> str | None:
    """The boundary of a multipart content type, or None if it is not multipart."""
    if not content_type.lower().startswith("multipart/"):
        return None
    match = _BOUNDARY.search(content_type)
    return match.group(1).strip() if match else None


class MultipartSplitter:
    """Feeds on raw bytes and returns each complete part's body.

    Cameras disagree on the details: some declare `boundary=--frame` and delimit with
    `--frame`, others with `----frame`; some send Content-Length per part, some don't; some
    end lines with LF alone. So the delimiter is found by the boundary's text without its
    leading dashes, and a part without Content-Length ends where the next delimiter begins.
    """

    def __init__(self, boundary: str, max_part_bytes: int = 16 * 1024 * 1024) -> None:
        token = boundary.lstrip("-") or boundary
        self._token = token.encode("latin-1")
        self._max_part_bytes = max_part_bytes
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Adds bytes from the stream; ValueError once more than `max_part_bytes` are
        buffered without a complete part (not a multipart stream, or a runaway part)."""
        self._buf += data
        parts: list[bytes] = []
        while (part := self._next_part()) is not None:
            parts.append(part)
        if len(self._buf) > self._max_part_bytes:
            raise ValueError(
                f"no complete part in {len(self._buf)} bytes (boundary {self._token!r})"
            )
        return parts

    def _next_part(self) -> bytes | None:
        buf = self._buf
        start = buf.find(self._token)
        if start < 0:
            return None
        headers_end, body_start = self._end_of_headers(start)
        if headers_end < 0:
            return None
        length = _CONTENT_LENGTH.search(bytes(buf[start:headers_end]))
        if length is not None:
            body_end = body_start + int(length.group(1))
            if len(buf) < body_end:
                return None
            rest = body_end
        else:
            body_end = buf.find(self._token, body_start)
            if body_end < 0:
                return None
            rest = body_end
        body = bytes(buf[body_start:body_end])
        del buf[:rest]
        if length is None:
            # What precedes the next delimiter is "\r\n--"; JPEG data ends with FF D9, so
            # trimming dashes and line ends cannot cut into the image.
            body = body.rstrip(b"-").rstrip(b"\r\n")
        return body

    def _end_of_headers(self, start: int) -> tuple[int, int]:
        """Index where the part's headers end and where its body starts (-1 if not yet)."""
        crlf = self._buf.find(b"\r\n\r\n", start)
        lf = self._buf.find(b"\n\n", start)
        if crlf >= 0 and (lf < 0 or crlf <= lf):
            return crlf, crlf + 4
        if lf >= 0:
            return lf, lf + 2
        return -1, -1
