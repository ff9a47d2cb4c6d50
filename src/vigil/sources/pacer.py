"""Holds file frames back to media speed, so a file can stand in for a live camera."""

from __future__ import annotations

import threading
import time


class Pacer:
    """Waits until each frame's media time has elapsed on the wall clock since the first.

    If the consumer falls behind by more than `max_lag_s` (a slow machine, a long pause),
    the schedule moves forward instead of replaying the backlog as fast as possible.
    """

    def __init__(self, cancel: threading.Event, max_lag_s: float = 1.0) -> None:
        self._cancel = cancel
        self._max_lag_s = max_lag_s
        self._origin_s: float | None = None  # monotonic time at which media time 0 plays

    def wait(self, media_s: float) -> bool:
        """Sleeps until the frame is due; False if cancelled meanwhile."""
        now = time.monotonic()
        if self._origin_s is None:
            self._origin_s = now - media_s
        delay = self._origin_s + media_s - now
        if delay > 0:
            return not self._cancel.wait(delay)
        if -delay > self._max_lag_s:
            self._origin_s -= delay
        return not self._cancel.is_set()
