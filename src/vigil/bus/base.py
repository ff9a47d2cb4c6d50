"""What every bus provides: publish event messages, subscribe with a bounded queue,
acknowledge what was handled, and say how far behind a durable subscriber is.

This is the whole contract: callers use nothing else of a bus, and tests/contracts/test_bus.py
runs one suite over every implementation (`memory.MemoryBus`, `nats.NatsBus`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from vigil.domain.event_rows import EventRow
from vigil.domain.events import EventMessage
from vigil.domain.series_points import SeriesMessage

# Events (start/update/end) and statistics series points share the bus.
BusMessage = EventMessage | SeriesMessage
# What a subscription hands out: a row subscription may give an event as an `EventRow`.
Delivered = BusMessage | EventRow


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a durable consumer has not finished, in the bus's own messages (a NATS envelope of
    many events counts once)."""

    waiting: int  # in the stream, not delivered yet
    unacknowledged: int  # delivered, not acknowledged yet: being written, or due again


class Subscription(Protocol):
    """A subscriber's view: pull messages, acknowledge them, and say when done."""

    def get(self, timeout: float | None = None) -> Delivered | None:
        """The next message, or None when `timeout` seconds pass without one."""
        ...

    def ack(self, messages: Iterable[Delivered]) -> None:
        """Acknowledge messages returned by `get`: a bus that redelivers (NATS JetStream) will
        not deliver them again. Failures are logged, not raised; redelivery is absorbed by
        idempotent writes."""
        ...

    def backlog(self) -> dict[str, Backlog]:
        """By stream, what this subscription's durable consumer has not finished; empty where
        the bus keeps nothing durable (in-process) or the subscription is lossy."""
        ...

    @property
    def dropped(self) -> int:
        """Messages this subscriber lost because it fell behind (lossy subscribers only)."""
        ...

    @property
    def pending(self) -> int:
        """Messages received and not yet taken with `get`."""
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

    def subscribe_rows(self, name: str, *, max_pending: int = 10_000) -> Subscription:
        """A lossless subscription that may deliver events as `EventRow`s, sparing a consumer
        that writes rows (the store sink) a model per message."""
        ...

    def close(self) -> None: ...
