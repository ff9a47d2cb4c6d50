"""Small generated media for tests that need a specific property (frame count, jumps…).

Each frame carries its index as 12 black/white blocks across the top (binary, most
significant bit first), big enough to survive lossy compression, so tests can tell which
frame they received.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

BITS = 12
WIDTH, HEIGHT = 320, 240
_BLOCK = WIDTH // BITS


def frame_image(index: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A BGR frame: a gradient that moves with the index, and the index in blocks on top."""
    x = np.arange(width, dtype=np.int32)[None, :]
    y = np.arange(height, dtype=np.int32)[:, None]
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[..., 0] = (x + index * 4) % 256
    image[..., 1] = (y * 2) % 256
    image[..., 2] = 128
    for bit in range(BITS):
        on = (index >> (BITS - 1 - bit)) & 1
        image[: height // 4, bit * _BLOCK : (bit + 1) * _BLOCK] = 255 if on else 0
    return image


def frame_index(image: np.ndarray) -> int:
    """Reads back the index drawn by `frame_image`."""
    band = image[: image.shape[0] // 4].mean(axis=2)
    index = 0
    for bit in range(BITS):
        block = band[:, bit * _BLOCK + 2 : (bit + 1) * _BLOCK - 2]
        index = (index << 1) | int(block.mean() > 127)
    return index


def write_clip(
    path: Path,
    *,
    frames: int,
    fps: int = 10,
    gop: int = 10,
    first_index: int = 0,
    start_s: float = 0.0,
    container_format: str | None = None,
    faststart: bool = False,
) -> Path:
    """Encodes `frames` numbered frames as H.264 at `fps`, presentation times from `start_s`.

    `faststart` puts an MP4's index before the media data, as streaming-ready files have it,
    so a truncated copy still opens and fails only where the data ends.
    """
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", format=container_format, options=options) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = WIDTH, HEIGHT
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.options = {"preset": "ultrafast", "sc_threshold": "0"}
        first_pts = round(start_s * fps)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(frame_image(first_index + i), format="bgr24")
            frame.pts = first_pts + i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def write_jpeg(path: Path, index: int = 0) -> Path:
    cv2.imwrite(str(path), frame_image(index))
    return path


def jpeg_bytes(image: np.ndarray, quality: int = 85) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()
