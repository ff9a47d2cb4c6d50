"""One camera's recorder: fed the packets its reader demuxes, before any sampling, so a camera
analysed at 2 fps is recorded at its full frame rate.

Times: the first packet of a session is stamped with the wall clock (never before the end of
what was already recorded), later packets by their media time from there. A reconnect, a
file that loops, a timestamp that jumps back or far ahead, or (live cameras) a camera clock
that drifts seconds from ours closes the segment and starts a new anchor: the lost time shows
as a gap, and segments never overlap.

Modes: `continuous` stores every segment; `events` keeps the last `pre_roll_s` of segments in
memory and stores them only around events (`trigger`), until `post_roll_s` after the event.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

import av

from vigil.config import CameraConfig, RecordingConfig
from vigil.domain.frames import now_ms
from vigil.domain.source_urls import SourceKind, classify
from vigil.recording.segmenter import Segment, Segmenter
from vigil.recording.writer import SegmentWriter

log = logging.getLogger(__name__)

# Media time that jumps forward more than this is a discontinuity (a stalled camera, a cut).
_MAX_JUMP_S = 10.0
# A live camera's media clock may drift from ours by this much before it is re-anchored.
_MAX_DRIFT_MS = 3_000


class CameraRecorder:
    def __init__(
        self, camera: CameraConfig, config: RecordingConfig, writer: SegmentWriter
    ) -> None:
        own = camera.recording
        self.camera_id = camera.id
        self.tenant = camera.tenant
        self.mode = (own.mode if own and own.mode else None) or config.mode
        self.segment_s = config.segment_s
        pre = own.pre_roll_s if own and own.pre_roll_s is not None else None
        post = own.post_roll_s if own and own.post_roll_s is not None else None
        self.pre_roll_ms = int(1000 * (pre if pre is not None else config.pre_roll_s))
        self.post_roll_ms = int(1000 * (post if post is not None else config.post_roll_s))
        self.live = classify(camera.url) is SourceKind.RTSP
        self._writer = writer
        self._lock = threading.Lock()
        self._segmenter: Segmenter | None = None
        self._anchor: tuple[int, float] | None = None  # (wall ms, media s) of the session
        self._time_base: float | None = None
        self._last_media_s = 0.0
        self._recorded_until_ms = 0
        self._pre_roll: deque[Segment] = deque()
        self._keep_until_ms = 0
        self.segments_done = 0
        self.errors = 0

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def state(self) -> str:
        """off, recording (writing segments), standby (events mode, between events)."""
        if not self.enabled:
            return "off"
        if self.mode == "events" and now_ms() > self._keep_until_ms:
            return "standby"
        return "recording"

    # PacketSink (called on the reader's thread) -------------------------------------------

    def opened(self, stream: av.VideoStream) -> None:
        with self._lock:
            self._close_segment()
            self._segmenter = Segmenter(stream, self.segment_s)
            self._anchor = None
            # Packets of a stream share its time base; PyAV builds a Fraction per access.
            self._time_base = float(stream.time_base) if stream.time_base else None

    def packet(self, packet: av.Packet) -> None:
        # Called for every packet of every camera: each PyAV attribute is read once.
        stamp = packet.dts
        if stamp is None:
            stamp = packet.pts
        time_base = self._time_base
        if stamp is None or time_base is None or packet.size == 0:
            return
        media_s = stamp * time_base
        keyframe = packet.is_keyframe
        with self._lock:
            segmenter = self._segmenter
            if segmenter is None:
                return
            try:
                ts_ms = self._stamp(media_s, keyframe)
                done = segmenter.add(packet, ts_ms, keyframe)
            except av.FFmpegError as exc:
                # A packet the muxer refuses costs its segment, never the camera's analysis.
                self.errors += 1
                log.warning("camera %s: recording dropped a segment: %s", self.camera_id, exc)
                self._segmenter = Segmenter(segmenter.stream, self.segment_s)
                self._anchor = None
                return
            if done is not None:
                self._finished(done)

    def closed(self) -> None:
        with self._lock:
            self._close_segment()
            self._segmenter = None

    # events mode --------------------------------------------------------------------------

    def trigger(self, start_ms: int, until_ms: int) -> None:
        """An event on this camera ran from `start_ms` to `until_ms` (or is still running):
        keep video from pre-roll before it to post-roll after it."""
        if self.mode != "events":
            return
        with self._lock:
            self._keep_until_ms = max(self._keep_until_ms, until_ms + self.post_roll_ms)
            keep_from = start_ms - self.pre_roll_ms
            while self._pre_roll:
                segment = self._pre_roll.popleft()
                if segment.end_ms > keep_from:
                    self._store(segment)

    # internals ----------------------------------------------------------------------------

    def _stamp(self, media_s: float, keyframe: bool) -> int:
        anchor = self._anchor
        if anchor is not None:
            ts = anchor[0] + round((media_s - anchor[1]) * 1000)
            backwards = media_s < self._last_media_s - 0.001
            jumped = media_s - self._last_media_s > _MAX_JUMP_S
            # The wall clock is read per keyframe, not per packet: drift is only acted on
            # where a segment may start anyway.
            drifted = self.live and keyframe and abs(ts - now_ms()) > _MAX_DRIFT_MS
            if not (backwards or jumped or drifted):
                self._last_media_s = media_s
                return ts
            self._close_segment()
        start = max(now_ms(), self._recorded_until_ms)
        self._anchor = (start, media_s)
        self._last_media_s = media_s
        return start

    def _close_segment(self) -> None:
        if self._segmenter is not None:
            done = self._segmenter.finish()
            if done is not None:
                self._finished(done)
        self._anchor = None

    def _finished(self, segment: Segment) -> None:
        self._recorded_until_ms = max(self._recorded_until_ms, segment.end_ms)
        if self.mode == "continuous" or segment.start_ms <= self._keep_until_ms:
            self._store(segment)
            return
        self._pre_roll.append(segment)
        while self._pre_roll and self._pre_roll[0].end_ms < segment.end_ms - self.pre_roll_ms:
            self._pre_roll.popleft()

    def _store(self, segment: Segment) -> None:
        if self._writer.submit(self.tenant, self.camera_id, segment):
            self.segments_done += 1
