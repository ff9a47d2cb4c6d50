"""Plain typed values that flow through the pipeline. No I/O here."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


def now_ms() -> int:
    """Wall-clock UTC time in epoch milliseconds (the store's unit)."""
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class Frame:
    """One decoded frame of one camera, chosen by the sampler for analysis.

    `ts_ms` is the frame's time on the camera's own clock in epoch milliseconds: wall clock at
    receipt for live sources, start time plus media time for files. Modules measure dwell and
    speed on this clock, so a file analysed faster than real time still yields true durations.
    """

    camera_id: str
    seq: int
    ts_ms: int
    image: np.ndarray  # H×W×3 uint8, BGR (OpenCV order)


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
