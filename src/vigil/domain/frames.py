"""Plain typed values that flow through the pipeline. No I/O here."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def now_ms() -> int:
    """Wall-clock UTC time in epoch milliseconds (the store's unit)."""
    return time.time_ns() // 1_000_000


class DeviceImage:
    """A decoded frame still in the memory of the device that decoded it (NVDEC on a GPU):
    an H×W×3 uint8 BGR torch tensor, with its host copy made lazily and at most once.

    The detector's batch is letterboxed from the tensor where it is (`vision.tensor_frames`),
    and snapshots and live frames are face-redacted there (`privacy.redact_tensor`), then only
    the redacted picture is copied. Consumers that read the frame's pixels on the host call
    `host()` and share the one copy: modules that look at pixels, a detector that is not the
    torch one, and the live view when face blurring is off (an event's object colour copies
    only the object's box).
    Holding `torch` only through the tensor's own methods keeps this module importable
    without it.
    """

    __slots__ = ("_host", "_lock", "host_copies", "tensor")

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor
        self.host_copies = 0  # 0 or 1: counted so tests and benchmarks can see who copies
        self._host: np.ndarray | None = None
        self._lock = threading.Lock()  # the inference and the live-view threads may both ask

    @property
    def shape(self) -> tuple[int, int, int]:
        height, width, channels = (int(n) for n in self.tensor.shape)
        return height, width, channels

    def host(self) -> np.ndarray:
        """The frame in host memory (BGR), copied from the device on the first call only."""
        with self._lock:
            if self._host is None:
                self._host = np.ascontiguousarray(self.tensor.cpu().numpy())
                self.host_copies += 1
            return self._host


# What a source delivers: a host array, or a tensor on the device that decoded it.
Pixels = np.ndarray | DeviceImage


class Frame:
    """One decoded frame of one camera, chosen by the sampler for analysis.

    `ts_ms` is the frame's time on the camera's own clock in epoch milliseconds: wall clock at
    receipt for live sources, start time plus media time for files. Modules measure dwell and
    speed on this clock, so a file analysed faster than real time still yields true durations.

    The pixels are a host array, or a `DeviceImage` for hardware-decoded frames: `image` is
    always the host array (copied from the device on first use), `device_image` the tensor
    or None, and `shape` needs neither.
    """

    __slots__ = ("camera_id", "pixels", "seq", "ts_ms")

    def __init__(self, camera_id: str, seq: int, ts_ms: int, image: Pixels) -> None:
        self.camera_id = camera_id
        self.seq = seq
        self.ts_ms = ts_ms
        self.pixels = image

    @property
    def image(self) -> np.ndarray:
        """H×W×3 uint8, BGR (OpenCV order), in host memory."""
        pixels = self.pixels
        return pixels if isinstance(pixels, np.ndarray) else pixels.host()

    @property
    def device_image(self) -> Any | None:
        """The H×W×3 uint8 BGR tensor on the decoding device, if the frame is there."""
        pixels = self.pixels
        return pixels.tensor if isinstance(pixels, DeviceImage) else None

    @property
    def shape(self) -> tuple[int, int]:
        """Height and width, without copying a device frame to the host."""
        height, width = self.pixels.shape[:2]
        return int(height), int(width)

    def __repr__(self) -> str:
        where = "device" if isinstance(self.pixels, DeviceImage) else "host"
        return f"Frame({self.camera_id!r}, seq={self.seq}, ts_ms={self.ts_ms}, {where})"


@dataclass(slots=True)
class SourceStatus:
    """What a camera's reader knows about its input; updated by the reader thread."""

    online: bool = False
    input_fps: float = 0.0
    frames_read: int = 0
    frames_sampled: int = 0
    reconnects: int = 0
    last_error: str | None = None
    last_frame_ms: int | None = None
    width: int | None = None
    height: int | None = None
    decoder: str | None = None  # with hardware_decode: the path in use, and why not NVDEC


@dataclass(slots=True)
class CameraStatus:
    """Status of one camera as the API reports it."""

    camera_id: str
    name: str
    tenant: str
    online: bool
    input_fps: float
    analysed_fps: float
    lag_ms: float
    dropped_frames: int
    reconnects: int
    last_error: str | None
    width: int | None = None
    height: int | None = None
    extra: dict[str, float] = field(default_factory=dict)
    decoder: str | None = None
    recording: str = "off"  # off, recording, standby (events mode between events)
    # Capture time (epoch ms) of the latest analysed frame, the one the live view shows, and
    # when the source last delivered a frame: how old the picture is, and why (issue 17).
    picture_ms: int | None = None
    source_frame_ms: int | None = None
    # Frames dropped lately because the detector cannot keep up: analysed below its rate, by
    # priority (cameras[].priority) when load is shed.
    load_shed: bool = False
