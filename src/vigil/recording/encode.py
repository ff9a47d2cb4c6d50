"""Encoding protected frames for delivery: H.264 MP4 that browsers play and courts accept."""

from __future__ import annotations

import io
from collections.abc import Iterable
from fractions import Fraction

import av
import numpy as np

from vigil.recording.playback import PlaybackFrame

CONTENT_TYPE = "video/mp4"
# A fragmented MP4 needs no second pass to put its index first (which an in-memory output
# cannot do) and streams as it is written.
_FRAGMENTED = "frag_keyframe+empty_moov+default_base_moof"


def encode_mp4(frames: Iterable[PlaybackFrame], fps: float) -> tuple[bytes, int]:
    """An H.264 (yuv420p) fragmented MP4: its header comes first and each keyframe starts a
    fragment, so a browser plays it while it arrives; returns the bytes and the frame count.
    Frames keep their recorded times (variable frame rate), so gaps stay gaps."""
    buffer = io.BytesIO()
    count = 0
    with av.open(buffer, mode="w", format="mp4", options={"movflags": _FRAGMENTED}) as out:
        stream: av.VideoStream | None = None
        first_ms = 0
        last_pts = -1
        time_base = Fraction(1, 1000)
        for item in frames:
            image = _even(item.image)
            if stream is None:
                stream = out.add_stream("libx264", rate=max(1, round(fps)))
                stream.width, stream.height = image.shape[1], image.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.time_base = time_base
                stream.codec_context.time_base = time_base
                stream.options = {"preset": "veryfast", "crf": "23"}
                first_ms = item.ts_ms
            elif image.shape[1] != stream.width or image.shape[0] != stream.height:
                continue  # the camera changed resolution mid-range: keep the first size
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            # Strictly increasing, as the muxer requires, even for frames a millisecond apart.
            frame.pts = last_pts = max(item.ts_ms - first_ms, last_pts + 1)
            frame.time_base = time_base
            for packet in stream.encode(frame):
                out.mux(packet)
            count += 1
        if stream is not None:
            for packet in stream.encode(None):
                out.mux(packet)
    return (buffer.getvalue() if count else b""), count


def _even(image: np.ndarray) -> np.ndarray:
    """yuv420p needs even sides: drop a last odd row or column."""
    height, width = image.shape[:2]
    return image[: height - height % 2, : width - width % 2]
