"""Exponential backoff between reconnection attempts."""

from __future__ import annotations


class Backoff:
    """Delays of `initial_s`, doubling up to `max_s`; `reset` after a success.

    Doubling keeps a dead camera from costing CPU and log lines every half second, and the
    cap keeps a camera that comes back from waiting more than `max_s` to be seen again.
    """

    def __init__(self, initial_s: float = 0.5, max_s: float = 30.0) -> None:
        self._initial_s = initial_s
        self._max_s = max_s
        self._next_s = initial_s

    def next_delay(self) -> float:
        delay = self._next_s
        self._next_s = min(self._next_s * 2, self._max_s)
        return delay

    def reset(self) -> None:
        self._next_s = self._initial_s
