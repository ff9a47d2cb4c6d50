"""Running CameraReaders in tests and looking at what they delivered."""

from __future__ import annotations

import threading
from itertools import pairwise
from pathlib import Path
from typing import Any

import av

from vigil.domain.frames import Frame
from vigil.sources import CameraReader


class Collector:
    """The on_frame callback: keeps frames, thread-safely."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frames: list[Frame] = []

    def __call__(self, frame: Frame) -> None:
        with self._lock:
            self._frames.append(frame)

    @property
    def frames(self) -> list[Frame]:
        with self._lock:
            return list(self._frames)

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)


def read_to_end(url: str | Path, fps: float, **kwargs: Any) -> tuple[list[Frame], CameraReader]:
    """Reads a file once, as fast as it decodes, and returns the frames and the reader."""
    frames = Collector()
    options: dict[str, Any] = {"loop": False, "realtime": False, **kwargs}
    reader = CameraReader("cam", str(url), fps, frames, **options)
    reader.start()
    assert reader.join(60.0), "the reader did not finish a once-only file"
    return frames.frames, reader


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return container.streams.video[0].frames


def steps_ms(frames: list[Frame]) -> list[int]:
    return [b.ts_ms - a.ts_ms for a, b in pairwise(frames)]
