"""The bus contract (vigil.bus.base), one suite over every implementation: in-process and NATS
JetStream. What one side was tested for alone (the in-memory bus dropping the oldest messages
of a lossy subscriber, NATS acknowledgement and backlog) holds for both."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from tests.store.conftest import BASE_MS, build_event
from tests.waiting import wait_until
from vigil.bus import MemoryBus
from vigil.bus.base import Bus, Delivered
from vigil.bus.nats import NatsBus
from vigil.domain.event_rows import EventRow
from vigil.domain.events import EventMessage, EventState, Phase
from vigil.services.nats import NatsServer

_prefixes = itertools.count()


@pytest.fixture(params=["memory", "nats"])
def bus(request: pytest.FixtureRequest) -> Iterator[Bus]:
    if request.param == "memory":
        made: Bus = MemoryBus()
    else:
        server: NatsServer = request.getfixturevalue("nats_server")
        made = NatsBus(server.url, prefix=f"contract{next(_prefixes)}")
    try:
        yield made
    finally:
        made.close()


def settle(bus: Bus) -> None:
    """Let a networked bus finish setting up subscriptions before the first publish."""
    if isinstance(bus, NatsBus):
        bus.call(bus.nc.flush(), timeout=5)


def events(n: int) -> list[EventMessage]:
    """`n` ended events of one camera, in publishing order."""
    return [
        EventMessage(
            phase=Phase.END,
            event=build_event(start_ms=BASE_MS + i, camera_id="cam", state=EventState.ENDED),
        )
        for i in range(n)
    ]


def event_id(delivered: Delivered | None) -> str:
    assert isinstance(delivered, EventMessage | EventRow), delivered
    return delivered.id if isinstance(delivered, EventRow) else delivered.event.id


def test_a_lossless_subscriber_gets_every_message_once_in_order(bus: Bus) -> None:
    sink = bus.subscribe("sink", lossless=True, max_pending=10)
    settle(bus)
    published = events(40)
    # More than fits its queue: the bus holds the rest back (blocks the publisher in process,
    # leaves it in the stream on NATS) instead of dropping any.
    publisher = threading.Thread(target=bus.publish_many, args=(published,))
    publisher.start()
    received = [event_id(sink.get(timeout=10)) for _ in published]
    publisher.join(10)
    assert received == [message.event.id for message in published]
    assert sink.dropped == 0 and sink.get(timeout=0.2) is None


def test_a_lossy_subscriber_that_falls_behind_keeps_the_newest(bus: Bus) -> None:
    live = bus.subscribe("live", lossless=False, max_pending=10)
    settle(bus)
    published = events(40)
    bus.publish_many(published)
    wait_until(lambda: live.dropped == 30)
    assert live.pending == 10
    kept = [event_id(live.get(timeout=5)) for _ in range(10)]
    assert kept == [message.event.id for message in published[-10:]]
    assert live.backlog() == {}  # nothing durable behind a lossy subscriber


def test_acknowledged_messages_leave_nothing_outstanding(bus: Bus) -> None:
    rows = bus.subscribe_rows("sink")
    settle(bus)
    published = events(20)
    bus.publish_many(published)
    delivered = [rows.get(timeout=10) for _ in published]
    assert [event_id(item) for item in delivered] == [m.event.id for m in published]
    # A row subscription may hand out rows; either form converts to the same message.
    messages = [item.message() if isinstance(item, EventRow) else item for item in delivered]
    assert [m.event.state for m in messages if isinstance(m, EventMessage)] == [
        EventState.ENDED
    ] * 20
    rows.ack([item for item in delivered if item is not None])

    def settled() -> bool:
        return all(
            entry.waiting == 0 and entry.unacknowledged == 0 for entry in rows.backlog().values()
        )

    wait_until(settled)
    rows.close()
