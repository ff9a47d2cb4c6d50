"""Stream health: camera offline, image frozen, frame rate too low — each with its recovery.

Three scene events, each starting on the fault and ending when it is over:

- `stream.offline`: no frame has arrived for `offline_after_s` (the connection is down, or up
  but silent). Judged once a second from the reader's status (`on_status`), on the wall clock,
  because exactly then no frame comes to trigger anything. Ends with the first frame.
- `stream.frozen`: frames keep arriving but show the same image (none of about 160 × 120
  pixels sampled from the frame, without averaging, differs by more than `frozen_tolerance`
  gray levels from the previous frame) for `frozen_after_s` of camera time: a hung encoder or a
  looping still. A live camera never passes that test for long, even on a still scene: its
  sensor noise, and each freshly encoded key frame, change some pixels. Ends with the first
  frame that differs.
- `stream.low_fps`: the input frame rate stays below `min_fps` for `low_fps_after_s` while the
  camera is online; ends after `recover_s` at or above it. Not judged while offline (an outage
  ends it: the offline event says more).
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np
from pydantic import Field

from vigil.config import CameraConfig
from vigil.domain.events import Phase
from vigil.domain.frames import SourceStatus
from vigil.modules.base import ModuleBase, ModuleSettings, Signal, Tracks
from vigil.modules.debounce import Debounce
from vigil.modules.registry import register
from vigil.vision.pixels import ANALYSIS_WIDTH

OFFLINE, FROZEN, LOW_FPS = "stream.offline", "stream.frozen", "stream.low_fps"


def sampled_pixels(image: np.ndarray, width: int = ANALYSIS_WIDTH) -> np.ndarray:
    """Every n-th pixel of the frame, about `width` across. Not averaged: a downscaled copy
    would average a live camera's sensor noise away and make a still scene look frozen."""
    step = max(1, image.shape[1] // width)
    sampled = image[::step, ::step, 1] if image.ndim == 3 else image[::step, ::step]
    return np.ascontiguousarray(sampled)  # one channel (green) is enough: noise is in all


class StreamHealthSettings(ModuleSettings):
    offline_after_s: float = Field(
        10.0, gt=0.0, description="No frame for this long: the camera is offline"
    )
    frozen_after_s: float = Field(
        10.0, gt=0.0, description="The same image for this long: the stream is frozen"
    )
    frozen_tolerance: int = Field(
        2, ge=0, le=255, description="Largest difference of any sampled pixel value (0-255) "
        "between two frames that still counts as the same image"
    )
    min_fps: float | None = Field(
        None, gt=0.0, description="Input frames per second below which the rate is too low; "
        "half the camera's analysis_fps when unset"
    )
    low_fps_after_s: float = Field(
        10.0, ge=0.0, description="The rate must stay low this long to start"
    )
    recover_s: float = Field(3.0, ge=0.0, description="A good rate this long ends low_fps")


@register
class StreamHealthModule(ModuleBase):
    name: ClassVar[str] = "stream_health"
    description: ClassVar[str] = (
        "Stream health: offline, frozen image and low frame rate, each ended by its recovery"
    )
    settings_model: ClassVar[type[StreamHealthSettings]] = StreamHealthSettings

    def __init__(self, settings: StreamHealthSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.min_fps = settings.min_fps or camera.analysis_fps / 2
        self.offline = Debounce(0.0, 0.0)
        self.frozen = Debounce(settings.frozen_after_s, 0.0)
        self.low_fps = Debounce(settings.low_fps_after_s, settings.recover_s)
        self.input_fps = 0.0
        self.events = {OFFLINE: 0, FROZEN: 0, LOW_FPS: 0}
        self._never_seen_since: int | None = None  # first check without any frame ever
        self._previous: np.ndarray | None = None

    # frames: frozen image -----------------------------------------------------------------------

    def update(self, tracks: Tracks) -> list[Signal]:
        if tracks.image is None:
            return []
        small = sampled_pixels(tracks.image)
        previous, self._previous = self._previous, small
        if previous is None or previous.shape != small.shape:
            return []
        same = int(cv2.absdiff(small, previous).max()) <= self.settings.frozen_tolerance
        frozen_since = self.frozen.since_ms
        change = self.frozen.step(tracks.ts_ms, same)
        if change is Phase.START:
            since = frozen_since if frozen_since is not None else tracks.ts_ms
            return [self._start(FROZEN, frozen_s=round((tracks.ts_ms - since) / 1000, 1))]
        if change is Phase.END:
            return [Signal((FROZEN,), Phase.END, FROZEN)]
        return []

    # status: offline and low frame rate ---------------------------------------------------------

    def on_status(self, status: SourceStatus, now_ms: int) -> list[Signal]:
        self.input_fps = status.input_fps
        signals: list[Signal] = []
        since = status.last_frame_ms
        if since is None:
            if self._never_seen_since is None:
                self._never_seen_since = now_ms
            since = self._never_seen_since
        silent_ms = now_ms - since
        offline = silent_ms >= self.settings.offline_after_s * 1000
        change = self.offline.step(now_ms, offline)
        if change is Phase.START:
            if self.low_fps.reset():
                signals.append(Signal((LOW_FPS,), Phase.END, LOW_FPS))
            signals.append(
                self._start(
                    OFFLINE,
                    silent_s=round(silent_ms / 1000, 1),
                    last_error=status.last_error,
                    reconnects=status.reconnects,
                )
            )
        elif change is Phase.END:
            signals.append(Signal((OFFLINE,), Phase.END, OFFLINE))
        judged = None if offline or not status.online else status.input_fps < self.min_fps
        change = self.low_fps.step(now_ms, judged)
        if change is Phase.START:
            signals.append(
                self._start(LOW_FPS, input_fps=round(status.input_fps, 2), min_fps=self.min_fps)
            )
        elif change is Phase.END:
            signals.append(Signal((LOW_FPS,), Phase.END, LOW_FPS))
        return signals

    def finish(self, ts_ms: int) -> list[Signal]:
        faults = ((OFFLINE, self.offline), (FROZEN, self.frozen), (LOW_FPS, self.low_fps))
        return [Signal((kind,), Phase.END, kind) for kind, state in faults if state.reset()]

    def stats(self) -> dict[str, Any]:
        return {
            "offline": self.offline.active,
            "frozen": self.frozen.active,
            "low_fps": self.low_fps.active,
            "input_fps": round(self.input_fps, 2),
            "min_fps": self.min_fps,
            "events": dict(self.events),
        }

    def _start(self, kind: str, **attributes: Any) -> Signal:
        self.events[kind] += 1
        return Signal((kind,), Phase.START, kind, attributes=attributes)
