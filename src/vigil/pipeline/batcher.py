"""Cross-camera batching: frames of all cameras go through one inference call.

A batch closes when it is full or when `max_wait_ms` has passed since its first frame arrived.
Cameras are served round-robin so a busy camera cannot starve a quiet one. When inference falls
behind, a live camera's oldest waiting frame is dropped (real time over completeness) and the
drop is counted; offline analysis blocks the reader instead, so no frame is lost.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque

from vigil.domain.frames import Frame


class FrameBatcher:
    def __init__(
        self, max_batch: int, max_wait_ms: float, queue_per_camera: int, *, lossless: bool = False
    ) -> None:
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000
        self.queue_per_camera = queue_per_camera
        self.lossless = lossless
        self.dropped: Counter[str] = Counter()
        self._queues: dict[str, deque[Frame]] = {}
        self._order: list[str] = []  # round-robin order of cameras
        self._next = 0
        self._pending = 0
        self._first_arrival: float | None = None
        self._closed = False
        self._cond = threading.Condition()

    @property
    def pending(self) -> int:
        return self._pending

    def put(self, frame: Frame) -> None:
        with self._cond:
            queue = self._queues.get(frame.camera_id)
            if queue is None:
                queue = self._queues[frame.camera_id] = deque()
                self._order.append(frame.camera_id)
            while self.lossless and len(queue) >= self.queue_per_camera and not self._closed:
                self._cond.wait()
            if self._closed:
                return
            if len(queue) >= self.queue_per_camera:
                queue.popleft()
                self._pending -= 1
                self.dropped[frame.camera_id] += 1
            queue.append(frame)
            self._pending += 1
            if self._first_arrival is None:
                self._first_arrival = time.monotonic()
            self._cond.notify_all()

    def remove_camera(self, camera_id: str) -> None:
        with self._cond:
            queue = self._queues.pop(camera_id, None)
            if queue is not None:
                self._pending -= len(queue)
                self._order.remove(camera_id)
                self._next = 0
            self._cond.notify_all()

    def next_batch(self, timeout: float = 0.5) -> list[Frame]:
        """Up to `max_batch` frames, fairly across cameras; [] if none came within `timeout`."""
        give_up = time.monotonic() + timeout
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                if self._pending >= self.max_batch:
                    break
                if self._pending and self._first_arrival is not None:
                    deadline = self._first_arrival + self.max_wait_s
                    if now >= deadline:
                        break
                    self._cond.wait(deadline - now)
                    continue
                if now >= give_up:
                    return []
                self._cond.wait(give_up - now)
            batch = self._take()
            self._first_arrival = time.monotonic() if self._pending else None
            self._cond.notify_all()
            return batch

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _take(self) -> list[Frame]:
        batch: list[Frame] = []
        while len(batch) < self.max_batch and self._pending:
            camera_id = self._order[self._next % len(self._order)]
            self._next = (self._next + 1) % len(self._order)
            queue = self._queues[camera_id]
            if queue:
                batch.append(queue.popleft())
                self._pending -= 1
        return batch
