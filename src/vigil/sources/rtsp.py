"""RTSP cameras through PyAV, over TCP, with timeouts that fail fast."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import av
import av.container

from vigil.domain.source_urls import redact
from vigil.sources.base import RawFrame, SourceError, SourceOptions
from vigil.sources.pinning import checked_target, with_address
from vigil.sources.policy import PolicyRefusal
from vigil.sources.pyav import VideoDecoder, first_video_stream, nominal_fps, raw_frame, reason
from vigil.sources.rtsp_relay import RtspRelay

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
# A tenant's camera is reached through the relay, in plain RTSP over loopback.
_RELAYED_PROTOCOLS = "rtsp,tcp"

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
        self._relay: RtspRelay | None = None

    @property
    def nominal_fps(self) -> float | None:
        return self._fps

    def open(self) -> None:
        opts = self._options
        options = dict(_AV_OPTIONS)
        url = self._url
        if opts.policy is not None:
            url = self._relayed_url()
            options["protocol_whitelist"] = _RELAYED_PROTOCOLS
        started = time.monotonic()
        try:
            container = av.open(
                url,
                mode="r",
                options=options,
                timeout=(opts.open_timeout_s, opts.read_timeout_s),
            )
        except av.FFmpegError as exc:
            self._raise_relay_failure(f"cannot connect to {self._shown}")
            if time.monotonic() - started >= opts.open_timeout_s * _TIMEOUT_SLACK:
                why = f"no answer within {opts.open_timeout_s:g} s"
            else:
                why = reason(exc)
            raise SourceError(f"cannot connect to {self._shown}: {why}") from None
        self._container = container
        stream = first_video_stream(container, self._shown)
        self._fps = nominal_fps(stream)
        self._frames = iter(VideoDecoder(container, stream, self._options.packets))

    def _relayed_url(self) -> str:
        """The loopback URL of a new relay to the camera's checked address (see
        vigil.sources.rtsp_relay: FFmpeg would follow a camera's redirect anywhere)."""
        assert self._options.policy is not None
        address, port = checked_target(self._url, self._options.policy)
        self._close_relay()
        relay = RtspRelay(
            address,
            port,
            tls=self._url.lower().startswith("rtsps:"),
            server_name=urlsplit(self._url).hostname or address,
            timeout_s=self._options.open_timeout_s,
        )
        self._relay = relay
        return with_address(self._url, "127.0.0.1", relay.start(), scheme="rtsp")

    def _raise_relay_failure(self, what: str) -> None:
        """Say why, when the relay knows better than FFmpeg's error (a refused redirect, a
        connection the camera refused)."""
        relay = self._relay
        if relay is None:
            return
        if relay.refused is not None:
            raise PolicyRefusal(f"{what}: the camera sent {relay.refused}")
        if relay.error is not None:
            raise SourceError(f"{what}: {relay.error}")

    def _close_relay(self) -> None:
        if self._relay is not None:
            self._relay.close()
            self._relay = None

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
            self._raise_relay_failure(f"lost {self._shown}")
            raise SourceError(f"lost {self._shown}: {why}") from None
        if frame is None:
            self._raise_relay_failure(f"lost {self._shown}")
            return None
        return raw_frame(frame)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        self._close_relay()
