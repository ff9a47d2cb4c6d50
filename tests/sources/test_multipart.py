"""Splitting MJPEG streams as real cameras send them."""

from __future__ import annotations

import pytest

from vigil.sources.multipart import MultipartSplitter, boundary_of

JPEG_A = b"\xff\xd8" + b"A" * 50 + b"\xff\xd9"
JPEG_B = b"\xff\xd8" + b"B\r\n--" * 10 + b"\xff\xd9"


def part(body: bytes, boundary: bytes, eol: bytes, with_length: bool) -> bytes:
    head = b"--" + boundary + eol + b"Content-Type: image/jpeg" + eol
    if with_length:
        head += b"Content-Length: %d" % len(body) + eol
    return head + eol + body + eol


@pytest.mark.parametrize("with_length", [True, False])
@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_splits_parts_fed_byte_by_byte(with_length: bool, eol: bytes) -> None:
    stream = b"".join(part(b, b"frame", eol, with_length) for b in (JPEG_A, JPEG_B, JPEG_A))
    splitter = MultipartSplitter("frame")
    parts = [p for i in range(len(stream)) for p in splitter.feed(stream[i : i + 1])]
    # Without Content-Length a part is known complete only when the next one starts.
    expected = [JPEG_A, JPEG_B, JPEG_A] if with_length else [JPEG_A, JPEG_B]
    assert parts == expected


def test_boundary_declared_with_dashes_matches_either_delimiter() -> None:
    # Declared "--myboundary": some cameras then write "----myboundary", some "--myboundary".
    stream = part(JPEG_A, b"--myboundary", b"\r\n", True)
    stream += part(JPEG_B, b"myboundary", b"\r\n", True)
    assert MultipartSplitter("--myboundary").feed(stream) == [JPEG_A, JPEG_B]


def test_boundary_of_content_types() -> None:
    assert boundary_of("multipart/x-mixed-replace; boundary=frame") == "frame"
    assert boundary_of('multipart/x-mixed-replace;boundary="--ipcam"') == "--ipcam"
    assert boundary_of("image/jpeg") is None
    assert boundary_of("multipart/x-mixed-replace") is None


def test_a_stream_without_boundaries_is_rejected() -> None:
    splitter = MultipartSplitter("frame", max_part_bytes=1000)
    with pytest.raises(ValueError, match="no complete part"):
        splitter.feed(b"x" * 2000)
