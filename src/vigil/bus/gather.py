"""Collecting one batch of messages from a subscription, shared by the store sink and indexers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from vigil.bus.base import Delivered, Subscription

# How often a waiting consumer looks at its stop flag.
POLL_S = 0.1


def gather(
    subscription: Subscription,
    *,
    first_wait: float,
    flush_s: float,
    stopping: threading.Event,
    is_full: Callable[[], bool],
) -> Iterator[Delivered]:
    """Messages for one batch: the first within `first_wait`, the rest until `flush_s` after it
    or until `is_full()`. Once `stopping` is set, only what is already queued."""
    deadline: float | None = None
    while not is_full():
        if deadline is None:
            wait = first_wait
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # Short waits so that a stop is noticed within a poll, not a flush interval.
            wait = 0.0 if stopping.is_set() else min(remaining, POLL_S)
        message = subscription.get(timeout=wait)
        if message is None:
            if deadline is None or stopping.is_set():
                return
            continue
        yield message
        if deadline is None:
            deadline = time.monotonic() + flush_s
