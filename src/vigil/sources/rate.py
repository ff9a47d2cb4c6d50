"""Frame rate measured over a sliding window."""

from __future__ import annotations

from collections import deque


class RateMeter:
    """Events per second over the last `window_s` seconds (0 once the events stop)."""

    def __init__(self, window_s: float = 2.0) -> None:
        self._window_s = window_s
        self._times: deque[float] = deque()

    def tick(self, now_s: float) -> None:
        self._times.append(now_s)
        self._expire(now_s)

    def rate(self, now_s: float) -> float:
        self._expire(now_s)
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0

    def _expire(self, now_s: float) -> None:
        while self._times and self._times[0] < now_s - self._window_s:
            self._times.popleft()
