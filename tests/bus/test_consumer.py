"""The consumer-thread skeleton (vigil.bus.consumer) the store sink and the search indexer are
built on: everything delivered before `stop()` is handled, in batches, in order."""

from __future__ import annotations

import pytest

from tests.store.conftest import BASE_MS, build_event
from tests.waiting import wait_until
from vigil.bus import MemoryBus
from vigil.bus.base import Subscription
from vigil.bus.consumer import BusConsumer
from vigil.domain.events import EventMessage, Phase


class Recorder(BusConsumer[list[str]]):
    def __init__(self, bus: MemoryBus) -> None:
        super().__init__("recorder")
        self.bus = bus
        self.batches: list[list[str]] = []
        self.polls = 0

    def subscribe(self) -> Subscription:
        return self.bus.subscribe(self.name, lossless=True, max_pending=100_000)

    def collect(self, subscription: Subscription, first_wait: float) -> list[str]:
        ids = []
        message = subscription.get(timeout=first_wait)
        while isinstance(message, EventMessage) and len(ids) < 50:
            ids.append(message.event.id)
            message = subscription.get(timeout=0) if len(ids) < 50 else None
        return ids

    def handle(self, batch: list[str]) -> None:
        self.batches.append(batch)

    def between_batches(self, subscription: Subscription) -> None:
        self.polls += 1


def publish(bus: MemoryBus, count: int) -> list[str]:
    messages = [
        EventMessage(phase=Phase.END, event=build_event(start_ms=BASE_MS + i))
        for i in range(count)
    ]
    bus.publish_many(messages)
    return [message.event.id for message in messages]


def test_stop_handles_everything_delivered_before_it_in_order() -> None:
    bus = MemoryBus()
    consumer = Recorder(bus)
    consumer.start()
    sent = publish(bus, 120)
    wait_until(lambda: consumer.polls > 0)
    sent += publish(bus, 300)  # still queued when stop() is called
    assert consumer.stop(timeout=10)
    assert [event_id for batch in consumer.batches for event_id in batch] == sent
    assert all(0 < len(batch) <= 50 for batch in consumer.batches)


def test_a_consumer_starts_once() -> None:
    consumer = Recorder(MemoryBus())
    consumer.start()
    with pytest.raises(RuntimeError, match="recorder is already started"):
        consumer.start()
    assert consumer.stop(timeout=5)
