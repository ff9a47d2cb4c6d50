"""Lossless subscriptions pull their durable consumer with plain pull requests
(`vigil.bus.pull`): they hold no more than their room, and keep pulling across a server
restart."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.test_nats import consumer_state, messages
from tests.waiting import wait_until
from vigil.bus.nats import NatsBus, NatsSubscription
from vigil.events import EventMessage
from vigil.services.nats import NatsServer


@pytest.fixture
def nats_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-pull-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def drain(subscription: NatsSubscription, expected: int, timeout: float) -> list[EventMessage]:
    """Everything `subscription` delivers until `expected` messages came, acknowledged."""
    got: list[EventMessage] = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        message = subscription.get(timeout=0.5)
        if message is not None:
            got.append(message)
            subscription.ack([message])
    return got


def test_a_slow_subscriber_is_sent_no_more_than_it_has_room_for(nats_dir: Path) -> None:
    outgoing = messages(300, cameras=300)[::2]  # starts, one camera each: an envelope each
    with NatsServer(nats_dir / "nats") as server:
        bus = NatsBus(server.url, prefix="pull")
        try:
            slow = bus.subscribe("slow", lossless=True, max_pending=50)
            bus.publish_many(outgoing)
            assert wait_until(lambda: slow.pending == 50, timeout=10)
            time.sleep(0.5)  # a subscription that ignored its room would take more by now
            assert slow.pending == 50
            assert consumer_state(bus, "slow")[1] <= 50  # delivered, not acknowledged

            got = drain(slow, len(outgoing), timeout=60)
            assert sorted(message_key(m) for m in got) == sorted(
                message_key(m) for m in outgoing)
            assert wait_until(lambda: consumer_state(bus, "slow") == (0, 0), timeout=10)
        finally:
            bus.close()


def test_pulling_goes_on_after_the_server_restarts(nats_dir: Path) -> None:
    server = NatsServer(nats_dir / "nats").start()
    subscriber = publisher = None
    try:
        subscriber = NatsBus(server.url, prefix="pull")
        publisher = NatsBus(server.url, prefix="pull")
        sink = subscriber.subscribe("sink", lossless=True)
        before, after = messages(5), messages(5)
        publisher.publish_many(before)
        assert len(drain(sink, len(before), timeout=10)) == len(before)

        server.stop()
        server = NatsServer(nats_dir / "nats", port=server.port).start()  # same store
        publisher.publish_many(after)  # once the publisher has reconnected

        got = drain(sink, len(after), timeout=20)
        assert sorted(message_key(m) for m in got) == sorted(message_key(m) for m in after)
    finally:
        for bus in (subscriber, publisher):
            if bus is not None:
                bus.close()
        server.stop()


def message_key(message: object) -> tuple[str, str]:
    assert isinstance(message, EventMessage)
    return message.event.id, message.phase.value
