"""Remuxing a camera's packets into short MPEG-TS segments, never re-encoding them.

MPEG-TS because each segment then stands alone (no index to finish, no header to share), a
segment cut short by a crash is still readable up to its last packet, and FFmpeg's muxer turns
MP4-style H.264 (files) into the Annex B form RTSP delivers by itself.

One muxer serves a whole session (until a discontinuity or the end), and segments are cut from
its output right before a keyframe: FFmpeg's MPEG-TS muxer writes its tables (SDT, PAT, PMT)
again before every video keyframe and the H.264 parameter sets travel with every IDR frame, so
each cut still opens and decodes alone. Opening a muxer and its stream per segment cost more
than muxing the segment's packets.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import av.container

CONTENT_TYPE = "video/mp2t"


@dataclass(frozen=True, slots=True)
class Segment:
    data: bytes  # the plaintext MPEG-TS, to be sealed before it leaves memory
    start_ms: int
    end_ms: int
    frames: int
    codec: str
    width: int
    height: int


class Segmenter:
    """Packets of one stream session in, complete segments out. A segment starts on a
    keyframe and is cut at the first keyframe at least `segment_s` after its start."""

    def __init__(self, stream: av.VideoStream, segment_s: float) -> None:
        self.stream = stream
        self._segment_ms = int(segment_s * 1000)
        ctx = stream.codec_context
        self._codec = ctx.name
        self._size = (int(ctx.width or 0), int(ctx.height or 0))
        rate = stream.average_rate or stream.guessed_rate
        # A packet without a duration lasts one frame interval (or 40 ms, 25 fps, if unknown).
        self._frame_ms = int(1000 / float(rate)) if rate else 40
        self._tick_ms = 1000 * float(stream.time_base) if stream.time_base else 0.0
        # Where the muxer writes: the bytes of the segment being filled. A BytesIO, whose
        # write is C, not a Python method called for every packet.
        self._sink = io.BytesIO()
        self._out: av.container.OutputContainer | None = None
        self._ostream: av.VideoStream | None = None
        self._start_ms = 0
        self._end_ms = 0
        self._frames = 0

    @property
    def open(self) -> bool:
        """Whether a segment is being filled."""
        return self._frames > 0

    def add(self, packet: av.Packet, ts_ms: int, keyframe: bool) -> Segment | None:
        """Mux `packet` (stamped `ts_ms` on the wall clock); returns the segment it closed, if
        any. Packets before the first keyframe are dropped: nothing could decode them."""
        done: Segment | None = None
        if keyframe and self._frames and ts_ms - self._start_ms >= self._segment_ms:
            done = self._cut()
        if not self._frames:
            if not keyframe:
                return done
            if self._out is None:
                self._begin()
            self._start_ms = self._end_ms = ts_ms
        assert self._out is not None and self._ostream is not None
        duration_ms = int((packet.duration or 0) * self._tick_ms) or self._frame_ms
        packet.stream = self._ostream
        self._out.mux(packet)
        self._frames += 1
        self._end_ms = max(self._end_ms, ts_ms + duration_ms)
        return done

    def finish(self) -> Segment | None:
        """Close the session's muxer (end of session, discontinuity, stop) and return the
        segment it was filling."""
        out = self._out
        if out is None:
            return None
        self._out = self._ostream = None
        out.close()
        return self._cut() if self._frames else None

    def _cut(self) -> Segment:
        """The bytes muxed so far are the segment; the next starts with the keyframe about
        to be muxed, which the muxer precedes with its tables."""
        segment = Segment(
            data=self._sink.getvalue(),
            start_ms=self._start_ms,
            end_ms=self._end_ms,
            frames=self._frames,
            codec=self._codec,
            width=self._size[0],
            height=self._size[1],
        )
        # The muxer only ever writes on (MPEG-TS never seeks back), so the buffer can be
        # emptied under it.
        self._sink.seek(0)
        self._sink.truncate()
        self._frames = 0
        return segment

    def _begin(self) -> None:
        self._sink.seek(0)
        self._sink.truncate()
        # flush_packets: every packet's bytes reach the sink when `mux` returns, so a cut
        # between two packets is a cut between their bytes.
        self._out = av.open(self._sink, mode="w", format="mpegts", options={"flush_packets": "1"})
        self._ostream = self._out.add_stream_from_template(self.stream)
