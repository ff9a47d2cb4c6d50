"""DeadlineBatcher: the deadline scheduler between camera reader threads and the inference thread.

It answers the same calls as FrameBatcher (put, next_batch, remove_camera, close, pending,
dropped), so the engine runs either. The engine picks it for live cameras when
`batching.max_lag_ms` is set; offline analysis keeps the lossless FrameBatcher.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from vigil.config import BatchingConfig
from vigil.domain.frames import Frame, now_ms
from vigil.pipeline.batcher import FrameBatcher
from vigil.pipeline.scheduler import CameraLoad, DeadlineScheduler, Queued


class Batcher(Protocol):
    """What the engine needs from a batcher."""

    @property
    def pending(self) -> int: ...

    @property
    def dropped(self) -> Mapping[str, int]: ...

    def put(self, frame: Frame) -> None: ...

    def remove_camera(self, camera_id: str) -> None: ...

    def next_batch(self, timeout: float = 0.5) -> list[Frame]: ...

    def close(self) -> None: ...


class DeadlineBatcher:
    """Thread-safe DeadlineScheduler of frames, timed by `clock` (monotonic seconds).

    There is one consumer: when it asks for the next batch, the previous one is finished, so
    the batch duration and every camera's lag are recorded then, without a separate call.
    """

    def __init__(
        self,
        max_batch: int,
        max_wait_ms: float,
        queue_per_camera: int,
        max_lag_ms: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        age_of: Callable[[Frame], float] | None = None,
    ) -> None:
        self._scheduler: DeadlineScheduler[Frame] = DeadlineScheduler(
            max_batch,
            max_wait_ms / 1000,
            queue_per_camera,
            None if max_lag_ms is None else max_lag_ms / 1000,
        )
        self._clock = clock
        self._age_of = age_of or _wall_clock_age
        self._cond = threading.Condition()
        self._closed = False
        self._in_flight: list[Queued[Frame]] = []
        self._started_s = 0.0

    @property
    def pending(self) -> int:
        return self._scheduler.pending

    @property
    def dropped(self) -> Mapping[str, int]:
        """Frames dropped per camera (0 for a camera never seen), read live."""
        return _Dropped(self._scheduler.loads)

    def loads(self) -> dict[str, CameraLoad]:
        """Per-camera counts and lag of analysed frames (a copy, safe to read)."""
        with self._cond:
            return dict(self._scheduler.loads)

    def reset_stats(self) -> None:
        with self._cond:
            self._scheduler.reset_stats()

    def set_priority(self, camera_id: str, priority: int) -> None:
        with self._cond:
            self._scheduler.set_priority(camera_id, priority)

    def shedding(self, camera_id: str) -> bool:
        """Whether the camera lost frames to overload lately (its analysed rate is lowered)."""
        with self._cond:
            load = self._scheduler.loads.get(camera_id)
            return load is not None and load.shedding(self._clock())

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._closed:
                return
            # Lag counts from capture, not from arrival here: decoding and a reader running
            # late have already used part of the budget.
            self._scheduler.offer(frame.camera_id, frame, self._clock() - self._age_of(frame))
            self._cond.notify_all()

    def remove_camera(self, camera_id: str) -> None:
        with self._cond:
            self._scheduler.remove(camera_id)
            self._cond.notify_all()

    def next_batch(self, timeout: float = 0.5) -> list[Frame]:
        """Up to `max_batch` frames, fairly across cameras; [] if none came within `timeout`."""
        with self._cond:
            now = self._clock()
            if self._in_flight:
                self._scheduler.done(self._in_flight, self._started_s, now)
                self._in_flight = []
            give_up = now + timeout
            while not self._closed:
                now = self._clock()
                if self._scheduler.ready(now):
                    batch = self._scheduler.take(now)
                    if batch:
                        self._in_flight, self._started_s = batch, now
                        return [queued.item for queued in batch]
                if now >= give_up:
                    return []
                due = self._scheduler.closes_at()
                wake = give_up if due is None else min(due, give_up)
                self._cond.wait(max(wake - now, 0.001))
            return []

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class _Dropped(Mapping[str, int]):
    """A view, so that the status of one camera among a thousand costs no copy of all."""

    def __init__(self, loads: dict[str, CameraLoad]) -> None:
        self._loads = loads

    def __getitem__(self, camera_id: str) -> int:
        load = self._loads.get(camera_id)
        return load.dropped if load is not None else 0

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._loads))

    def __len__(self) -> int:
        return len(self._loads)


def _wall_clock_age(frame: Frame) -> float:
    """Seconds since a live frame was received (its ts_ms); 0 for a timestamp ahead of now."""
    return max(0.0, (now_ms() - frame.ts_ms) / 1000)


def make_batcher(batching: BatchingConfig, *, offline: bool) -> FrameBatcher | DeadlineBatcher:
    """The batcher the settings ask for; offline analysis never drops, so never uses deadlines."""
    if offline:
        # A camera's reader may run a whole batch ahead: nothing is dropped, so a short queue
        # would only starve inference of frames.
        queue = max(batching.queue_per_camera, batching.max_batch)
        return FrameBatcher(batching.max_batch, batching.max_wait_ms, queue, lossless=True)
    if batching.max_lag_ms is None:
        return FrameBatcher(batching.max_batch, batching.max_wait_ms, batching.queue_per_camera)
    return DeadlineBatcher(
        batching.max_batch, batching.max_wait_ms, batching.queue_per_camera, batching.max_lag_ms
    )
