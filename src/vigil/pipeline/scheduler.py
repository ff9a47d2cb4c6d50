"""Deadline scheduling: frames of hundreds of cameras into large batches, with a lag budget.

On a GPU one call on 256 frames costs little more than a call on one (the fixed cost of a launch
dominates), so a worker serving a thousand cameras must batch across them. Batching alone is not
enough when the detector falls behind: queues then grow and every camera's lag grows with them.
This scheduler keeps lag bounded by a budget (`max_lag_s`) instead of letting it grow:

- a batch closes when it is full or when its oldest frame has waited `max_wait_s`;
- cameras are served round-robin, one frame each per turn, and the turn carries over from one
  batch to the next, so under overload every camera gets the same share of the detector;
- load is shed by priority: cameras of a higher `priority` are served before any of a lower
  one, so when the detector cannot keep up it is the low-priority cameras whose analysed rate
  falls (their frames wait, then are dropped as late), while the important ones keep theirs;
- a camera keeps at most `queue_per_camera` waiting frames: a new one pushes out its oldest;
- a frame that could no longer be analysed within the budget (its age plus the expected duration
  of the batch) is dropped when its turn comes, never analysed late.

The core is pure (time is passed in), so the policy is tested in simulated time with a thousand
cameras; `DeadlineBatcher` wraps it for the engine's reader and inference threads.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

# Lag samples kept per camera for percentiles: at 5 fps, over three minutes.
_LAG_SAMPLES = 1000
# Weight of the newest batch in the expected batch duration: follows a change of load in a few
# batches without one slow call making every waiting frame look late.
_SERVICE_EWMA = 0.3
# A camera counts as shed (status `load_shed`) this long after its last dropped frame.
SHED_WINDOW_S = 5.0


@dataclass(slots=True)
class CameraLoad:
    """What happened to one camera's frames since the statistics were last reset."""

    offered: int = 0
    analysed: int = 0
    dropped_full: int = 0  # pushed out of a full queue by a newer frame of the same camera
    dropped_late: int = 0  # past the lag budget when its turn came
    lag_max_s: float = 0.0
    lags_s: deque[float] = field(default_factory=lambda: deque(maxlen=_LAG_SAMPLES))
    last_drop_s: float | None = None  # when a frame of this camera was last dropped

    @property
    def dropped(self) -> int:
        return self.dropped_full + self.dropped_late

    def shedding(self, now_s: float) -> bool:
        """Frames were dropped within the last SHED_WINDOW_S: the camera is analysed at less
        than its configured rate because the detector cannot keep up."""
        return self.last_drop_s is not None and now_s - self.last_drop_s < SHED_WINDOW_S

    def lag_quantile(self, q: float) -> float:
        if not self.lags_s:
            return 0.0
        ordered = sorted(self.lags_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True, slots=True)
class Queued(Generic[T]):
    camera_id: str
    item: T
    captured_s: float  # when the camera delivered it; lag is measured from here
    number: int  # order of offering, to find the oldest waiting frame cheaply


class DeadlineScheduler(Generic[T]):
    """The batching policy on explicit time; not thread-safe (DeadlineBatcher locks it)."""

    def __init__(
        self,
        max_batch: int,
        max_wait_s: float,
        queue_per_camera: int,
        max_lag_s: float | None = None,
    ) -> None:
        if max_batch < 1 or queue_per_camera < 1:
            raise ValueError("max_batch and queue_per_camera must be at least 1")
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.queue_per_camera = queue_per_camera
        self.max_lag_s = max_lag_s
        self.loads: dict[str, CameraLoad] = {}
        self.expected_batch_s = 0.0
        self.expected_frame_s = 0.0
        self._offered = 0
        # Capture times of waiting frames, oldest first; entries of frames that left are skipped
        # lazily, so finding when a partial batch closes costs no scan of a thousand queues.
        self._heads: list[tuple[float, int]] = []
        self._gone: set[int] = set()
        self._queues: dict[str, deque[Queued[T]]] = {}
        self._priority: dict[str, int] = {}
        # One round-robin ring per priority, highest first; a single ring when all are equal.
        self._rings: dict[int, _Ring] = {}
        self._pending = 0

    @property
    def pending(self) -> int:
        return self._pending

    def offer(self, camera_id: str, item: T, captured_s: float) -> None:
        queue = self._queues.get(camera_id)
        if queue is None:
            queue = self._queues[camera_id] = deque()
            self._ring(self._priority.setdefault(camera_id, 0)).cameras.append(camera_id)
        load = self._load(camera_id)
        load.offered += 1
        if len(queue) >= self.queue_per_camera:
            self._gone.add(queue.popleft().number)
            self._pending -= 1
            load.dropped_full += 1
            load.last_drop_s = captured_s
        queue.append(Queued(camera_id, item, captured_s, self._offered))
        heapq.heappush(self._heads, (captured_s, self._offered))
        self._offered += 1
        self._pending += 1

    def remove(self, camera_id: str) -> None:
        queue = self._queues.pop(camera_id, None)
        if queue is None:
            self._priority.pop(camera_id, None)
            return
        self._pending -= len(queue)
        self._gone.update(queued.number for queued in queue)
        priority = self._priority.pop(camera_id)
        ring = self._rings[priority]
        ring.remove(camera_id)
        if not ring.cameras:
            del self._rings[priority]
        self.loads.pop(camera_id, None)

    def set_priority(self, camera_id: str, priority: int) -> None:
        """Serve `camera_id` before every camera of a lower priority (default 0)."""
        before = self._priority.get(camera_id)
        if before == priority:
            return
        self._priority[camera_id] = priority
        if before is None or camera_id not in self._queues:
            return  # placed in its ring when its first frame comes
        ring = self._rings[before]
        ring.remove(camera_id)
        if not ring.cameras:
            del self._rings[before]
        self._ring(priority).cameras.append(camera_id)

    def closes_at(self) -> float | None:
        """When a partial batch is due: its oldest frame's capture plus `max_wait_s`."""
        self._prune()
        return self._heads[0][0] + self.max_wait_s if self._heads else None

    def ready(self, now_s: float) -> bool:
        if self._pending >= self.max_batch:
            return True
        due = self.closes_at()
        return due is not None and now_s >= due

    def take(self, now_s: float) -> list[Queued[T]]:
        """Up to `max_batch` frames, one per camera per turn, after dropping the late ones;
        every waiting frame of a higher priority before any of a lower one."""
        self._drop_late(now_s)
        batch: list[Queued[T]] = []
        limit = self._batch_limit()
        for priority in sorted(self._rings, reverse=True):
            ring = self._rings[priority]
            cameras = len(ring.cameras)
            idle_turns = 0  # consecutive cameras with nothing waiting; a full round ends it
            while len(batch) < limit and self._pending and idle_turns < cameras:
                queue = self._queues[ring.cameras[ring.turn]]
                ring.turn = (ring.turn + 1) % cameras
                if queue:
                    queued = queue.popleft()
                    self._gone.add(queued.number)
                    batch.append(queued)
                    self._pending -= 1
                    idle_turns = 0
                else:
                    idle_turns += 1
        # Under overload batches are always full and `closes_at` is never asked: prune here
        # too, or the heap would keep an entry for every frame ever offered.
        self._prune()
        return batch

    def done(self, batch: list[Queued[T]], started_s: float, now_s: float) -> None:
        """Record a finished batch: per-camera lag, and the batch duration expected next."""
        took = max(0.0, now_s - started_s)
        if batch:
            self.expected_batch_s = _ewma(self.expected_batch_s, took)
            self.expected_frame_s = _ewma(self.expected_frame_s, took / len(batch))
        for queued in batch:
            load = self.loads.get(queued.camera_id)
            if load is None:
                continue  # the camera was removed while its frame was in flight
            lag = now_s - queued.captured_s
            load.analysed += 1
            load.lags_s.append(lag)
            load.lag_max_s = max(load.lag_max_s, lag)

    def reset_stats(self) -> None:
        """Start measuring afresh (after a warm-up), keeping the queues and the turn."""
        self.loads = {camera_id: CameraLoad() for camera_id in self._queues}

    def _ring(self, priority: int) -> _Ring:
        ring = self._rings.get(priority)
        if ring is None:
            ring = self._rings[priority] = _Ring()
        return ring

    def _load(self, camera_id: str) -> CameraLoad:
        load = self.loads.get(camera_id)
        if load is None:
            load = self.loads[camera_id] = CameraLoad()
        return load

    def _prune(self) -> None:
        while self._heads and self._heads[0][1] in self._gone:
            self._gone.discard(heapq.heappop(self._heads)[1])

    def _batch_limit(self) -> int:
        """`max_batch`, or fewer when a batch that large would take more than half the budget
        (a slow detector): a batch's duration adds to the lag of every frame in it."""
        if self.max_lag_s is None or self.expected_frame_s <= 0.0:
            return self.max_batch
        return max(1, min(self.max_batch, int(self.max_lag_s / 2 / self.expected_frame_s)))

    def _drop_late(self, now_s: float) -> None:
        if self.max_lag_s is None:
            return
        # A frame is late if, analysed in the batch about to start, it would finish past budget.
        # The expected duration is capped at half the budget: a detector slower than the budget
        # itself would otherwise have every frame dropped and never be called again.
        expected = min(self.expected_batch_s, self.max_lag_s / 2)
        oldest_allowed = now_s + expected - self.max_lag_s
        for camera_id, queue in self._queues.items():
            while queue and queue[0].captured_s < oldest_allowed:
                self._gone.add(queue.popleft().number)
                self._pending -= 1
                load = self._load(camera_id)
                load.dropped_late += 1
                load.last_drop_s = now_s


@dataclass(slots=True)
class _Ring:
    """Cameras of one priority in round-robin order, and whose turn it is."""

    cameras: list[str] = field(default_factory=list)
    turn: int = 0

    def remove(self, camera_id: str) -> None:
        index = self.cameras.index(camera_id)
        self.cameras.pop(index)
        if index < self.turn:
            self.turn -= 1
        self.turn = self.turn % len(self.cameras) if self.cameras else 0


def _ewma(previous: float, sample: float) -> float:
    return sample if previous == 0.0 else previous + _SERVICE_EWMA * (sample - previous)
