"""What every camera input provides: the FrameSource protocol and its frame and error types."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from vigil.domain.frames import DeviceImage, Pixels

if TYPE_CHECKING:
    from vigil.sources.policy import SourcePolicy
    from vigil.sources.pyav import PacketSink

# What a tenant may learn about a failing camera URL (see docs/security.md): these three
# phrases and nothing about the server's files or internal services.
UNREACHABLE = "unreachable"
REFUSED_BY_POLICY = "refused by policy"
NOT_A_VIDEO_STREAM = "not a video stream"


class SourceError(Exception):
    """A camera input failed; the message is meant for operators (it names the URL and why).

    `public` is one of UNREACHABLE, REFUSED_BY_POLICY and NOT_A_VIDEO_STREAM: what the camera
    status says for cameras whose URL a tenant chose, where the message could tell them about
    the server's file system or network.
    """

    def __init__(self, message: str, public: str = UNREACHABLE) -> None:
        super().__init__(message)
        self.public = public


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One decoded-or-decodable frame as a source delivers it, before sampling.

    Conversion to a BGR array is deferred to `to_bgr` because most frames are dropped by the
    sampler, and colour conversion (or JPEG decoding) costs more than demuxing.
    """

    pts_s: float | None  # media time in seconds on the source's own clock; None if unknown
    to_bgr: Callable[[], np.ndarray]  # H×W×3 uint8, BGR
    # Hardware-decoded sources: the frame left where it was decoded (GPU memory), for the
    # pipeline; `to_bgr` stays for callers that want host pixels right away (probe, tests).
    to_device: Callable[[], DeviceImage] | None = None

    def pixels(self) -> Pixels:
        """What the pipeline analyses: the device frame where there is one, else the host one."""
        return self.to_bgr() if self.to_device is None else self.to_device()


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """Settings that sources need besides their URL."""

    analysis_fps: float  # rate at which snapshot URLs are polled and still images repeated
    loop: bool = True  # files and still images restart at the end
    start_offset_s: float = 0.0  # files start this far in (demo cameras share one clip)
    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0
    # Try NVDEC / CUDA decoding first, falling back to the CPU per camera (sources/hwdecode.py).
    hardware_decode: bool = False
    # Set by the reader when it stops, so sources that wait between reads return at once.
    cancel: threading.Event = field(default_factory=threading.Event)
    # Every demuxed packet of PyAV sources (files, RTSP) goes here too: the camera's recorder.
    packets: PacketSink | None = None
    # The policy a tenant's camera is held to; None for the system administrator's own.
    policy: SourcePolicy | None = None


class FrameSource(Protocol):
    """A camera input: open it, read frames until None (end), close it.

    Sources are used by one thread and opened once; the reader creates a new one to reconnect.
    `open` and `read` raise SourceError with a message for operators.
    """

    @property
    def live(self) -> bool:
        """True for cameras (stamp frames with wall clock, reconnect at end of stream),
        False for files and still images (stamp with media time, may be paced or finish)."""
        ...

    @property
    def nominal_fps(self) -> float | None:
        """Frame rate the source declares, if any (known after `open`)."""
        ...

    def open(self) -> None: ...

    def read(self) -> RawFrame | None: ...

    def close(self) -> None: ...
