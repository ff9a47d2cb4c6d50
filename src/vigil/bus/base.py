"""What every bus provides: publish event messages, subscribe with a bounded queue."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from vigil.domain.events import EventMessage
from vigil.domain.series_points import SeriesMessage

# Events (start/update/end) and statistics series points share the bus.
BusMessage = EventMessage | SeriesMessage


class Subscription(Protocol):
    """A subscriber's view: pull messages, and say when done."""

    def get(self, timeout: float | None = None) -> BusMessage | None:
        """The next message, or None when `timeout` seconds pass without one."""
        ...

    @property
    def dropped(self) -> int:
        """Messages this subscriber lost because it fell behind (lossy subscribers only)."""
        ...

    def close(self) -> None: ...


class Bus(Protocol):
    def publish(self, message: BusMessage) -> None:
        """Deliver to every subscriber; returns once the message is accepted."""
        ...

    def publish_many(self, messages: Iterable[BusMessage]) -> int:
        """Publish `messages` in order, in as few round trips as the bus can (NATS: batch
        envelopes); returns once all are accepted, with how many."""
        ...

    def subscribe(
        self, name: str, *, lossless: bool = True, max_pending: int = 10_000
    ) -> Subscription:
        """A new subscription. A lossless one applies back-pressure to publishers when full
        (the store sink must see every event); a lossy one drops its oldest messages (a browser
        tab that stopped reading must not stall the pipeline)."""
        ...

    def close(self) -> None: ...
