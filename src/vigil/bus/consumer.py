"""The thread skeleton every batch consumer of the bus shares (the store sink, the search
indexer): subscribe when started, collect a batch, handle it, repeat until stopped; then close
the subscription and handle what was already delivered, so `stop()` loses nothing received.

Written once because the stop-and-drain order is easy to get subtly wrong: close first (no new
deliveries), then drain with a short wait (a publish already in flight may still land).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from vigil.bus.base import Subscription
from vigil.bus.gather import POLL_S

B = TypeVar("B")

# How long the final drain waits for a message still in flight once the subscription closed.
DRAIN_WAIT_S = 0.05


class BusConsumer(ABC, Generic[B]):
    """Subclasses say how to subscribe, how to collect a batch of type `B` (falsy when empty)
    and how to handle one; `started` and `between_batches` are hooks for the rest."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._stopping = threading.Event()
        self._subscription: Subscription | None = None
        self._thread: threading.Thread | None = None

    @abstractmethod
    def subscribe(self) -> Subscription:
        """A new subscription for this consumer (called once, by `start`)."""

    @abstractmethod
    def collect(self, subscription: Subscription, first_wait: float) -> B:
        """The next batch, waiting at most `first_wait` for its first message."""

    @abstractmethod
    def handle(self, batch: B) -> None:
        """Do the consumer's work on one non-empty batch."""

    def started(self) -> None:
        """Runs on the consumer's thread before the first batch (catching up, say)."""
        return None

    def between_batches(self, subscription: Subscription) -> None:
        """Runs on the consumer's thread after every poll while not stopping."""
        return None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already started")
        # Subscribed on the caller's thread: once start() returns, nothing published is missed.
        self._subscription = self.subscribe()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Handle everything received so far and stop. Returns False if `timeout` seconds
        passed first (the thread then keeps trying)."""
        if self._thread is None:
            return True
        self._stopping.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        subscription = self._subscription
        assert subscription is not None
        self.started()
        while not self._stopping.is_set():
            batch = self.collect(subscription, POLL_S)
            if batch:
                self.handle(batch)
            self.between_batches(subscription)
        subscription.close()
        while batch := self.collect(subscription, DRAIN_WAIT_S):
            self.handle(batch)
