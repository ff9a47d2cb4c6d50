"""In-process bus: a bounded queue per subscriber, fan-out on publish.

Delivery is immediate and nothing is redelivered, so acknowledgement has nothing to do and there
is no durable backlog; a lossless subscriber's full queue blocks the publisher (back-pressure),
a lossy one's drops its oldest messages."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

from vigil.bus.base import Backlog, BusMessage, Delivered


class MemorySubscription:
    def __init__(self, bus: MemoryBus, name: str, lossless: bool, max_pending: int) -> None:
        self.name = name
        self.lossless = lossless
        self._queue: queue.Queue[BusMessage] = queue.Queue(maxsize=max_pending)
        self._bus = bus
        self._dropped = 0

    def deliver(self, message: BusMessage) -> None:
        if self.lossless:
            self._queue.put(message)
            return
        while True:
            try:
                self._queue.put_nowait(message)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self._dropped += 1
                except queue.Empty:
                    pass

    def get(self, timeout: float | None = None) -> BusMessage | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def ack(self, messages: Iterable[Delivered]) -> None:
        return None

    def backlog(self) -> dict[str, Backlog]:
        return {}

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        self._bus.unsubscribe(self)


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: list[MemorySubscription] = []
        self._lock = threading.Lock()

    def publish(self, message: BusMessage) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.deliver(message)

    def publish_many(self, messages: Iterable[BusMessage]) -> int:
        count = 0
        for message in messages:
            self.publish(message)
            count += 1
        return count

    def subscribe(
        self, name: str, *, lossless: bool = True, max_pending: int = 10_000
    ) -> MemorySubscription:
        subscription = MemorySubscription(self, name, lossless, max_pending)
        with self._lock:
            self._subscribers.append(subscription)
        return subscription

    def subscribe_rows(self, name: str, *, max_pending: int = 10_000) -> MemorySubscription:
        return self.subscribe(name, lossless=True, max_pending=max_pending)

    def unsubscribe(self, subscription: MemorySubscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()
