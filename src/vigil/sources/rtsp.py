"""RTSP cameras through PyAV, over TCP, with timeouts that fail fast."""

from __future__ import annotations

import time
from collections.abc import Iterator

import av
import av.container

from vigil.domain.source_urls import redact
from vigil.sources.base import RawFrame, SourceError, SourceOptions
from vigil.sources.pinning import pinned_url
from vigil.sources.pyav import VideoDecoder, first_video_stream, nominal_fps, raw_frame, reason

_AV_OPTIONS = {
    # UDP loses packets behind NAT and firewalls and smears frames; TCP interleaving is what
    # every camera supports and what survives real networks.
    "rtsp_transport": "tcp",
    # FFmpeg probes 5 s of stream by default before the first frame; cameras declare their
    # parameters in the SDP, so 1 s is plenty and makes connecting 2-3x faster.
    "analyzeduration": "1000000",
    # Without this the packets read while probing are delivered in one burst after opening,
    # and frames stamped with the wall clock at receipt would get nearly equal times. With
    # it they are dropped and reading starts at the next keyframe, in real time.
    "fflags": "nobuffer",
    # RTSP needs nothing else; no SDP or redirect may make FFmpeg open files or HTTP URLs.
    "protocol_whitelist": "rtsp,rtsps,tcp,tls",
}

# An error that arrives this close to the timeout was the timeout (FFmpeg reports it as
# "invalid data" or "exit requested", which would mislead an operator).
_TIMEOUT_SLACK = 0.9


class RtspSource:
    """A live RTSP stream; ends (read returns None) when the camera closes the session."""

    live = True

    def __init__(self, url: str, options: SourceOptions) -> None:
        self._url = url
        self._shown = redact(url)
        self._options = options
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] = iter(())
        self._fps: float | None = None

    @property
    def nominal_fps(self) -> float | None:
        return self._fps

    def open(self) -> None:
        opts = self._options
        url = self._url if opts.policy is None else pinned_url(self._url, opts.policy)
        started = time.monotonic()
        try:
            container = av.open(
                url,
                mode="r",
                options=dict(_AV_OPTIONS),
                timeout=(opts.open_timeout_s, opts.read_timeout_s),
            )
        except av.FFmpegError as exc:
            if time.monotonic() - started >= opts.open_timeout_s * _TIMEOUT_SLACK:
                why = f"no answer within {opts.open_timeout_s:g} s"
            else:
                why = reason(exc)
            raise SourceError(f"cannot connect to {self._shown}: {why}") from None
        self._container = container
        stream = first_video_stream(container, self._shown)
        self._fps = nominal_fps(stream)
        self._frames = iter(VideoDecoder(container, stream, self._options.packets))

    def read(self) -> RawFrame | None:
        started = time.monotonic()
        try:
            frame = next(self._frames, None)
        except av.FFmpegError as exc:
            timeout_s = self._options.read_timeout_s
            if time.monotonic() - started >= timeout_s * _TIMEOUT_SLACK:
                why = f"no video for {timeout_s:g} s"
            else:
                why = reason(exc)
            raise SourceError(f"lost {self._shown}: {why}") from None
        return None if frame is None else raw_frame(frame)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
