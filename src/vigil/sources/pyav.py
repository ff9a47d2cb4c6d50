"""Shared PyAV plumbing for file and RTSP sources: decoding that survives damaged packets."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Protocol

import av
import av.container
import av.video

from vigil.sources.base import NOT_A_VIDEO_STREAM, RawFrame, SourceError

# A damaged packet (bit errors, the cut at the end of a truncated file) should cost a frame
# or a group of pictures, not the camera; this many in a row means the input is not H.264/…
# that this decoder can read at all.
MAX_BAD_PACKETS_IN_A_ROW = 25


def reason(exc: av.FFmpegError) -> str:
    """FFmpeg's own words for an error, without PyAV's errno and repeated file name."""
    return str(exc.strerror) if exc.strerror else str(exc)


def first_video_stream(container: av.container.InputContainer, what: str) -> av.VideoStream:
    if not container.streams.video:
        raise SourceError(f"{what} has no video track", NOT_A_VIDEO_STREAM)
    return container.streams.video[0]


def nominal_fps(stream: av.VideoStream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else None


def raw_frame(frame: av.VideoFrame) -> RawFrame:
    return RawFrame(pts_s=frame.time, to_bgr=partial(frame.to_ndarray, format="bgr24"))


class PacketSink(Protocol):
    """Receives every packet a source demuxes, before decoding drops or sampling skips any
    (the recorder: it remuxes them). `opened` starts a session of one stream; `closed` ends
    it (the reader calls it when the source closes)."""

    def opened(self, stream: av.VideoStream) -> None: ...

    def packet(self, packet: av.Packet) -> None: ...

    def closed(self) -> None: ...


class VideoDecoder:
    """Iterates decoded frames of one stream and remembers how far the packets reached."""

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        sink: PacketSink | None = None,
    ) -> None:
        self._container = container
        self._stream = stream
        self._sink = sink
        self.frames = 0
        self.end_s: float | None = None  # media time just after the last packet demuxed
        if sink is not None:
            sink.opened(stream)

    def __iter__(self) -> Iterator[av.VideoFrame]:
        bad_in_a_row = 0
        for packet in self._container.demux(self._stream):
            if packet.pts is not None and packet.time_base is not None:
                end = (packet.pts + (packet.duration or 0)) * packet.time_base
                self.end_s = max(self.end_s or 0.0, float(end))
            try:
                frames = packet.decode()
            except av.FFmpegError:
                bad_in_a_row += 1
                if bad_in_a_row > MAX_BAD_PACKETS_IN_A_ROW:
                    raise
                continue
            finally:
                # After decoding: muxing hands the packet's buffer to the recorder's muxer.
                if self._sink is not None:
                    self._sink.packet(packet)
            bad_in_a_row = 0
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    self.frames += 1
                    yield frame
