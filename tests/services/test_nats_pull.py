"""Lossless subscriptions pull their durable consumer with plain pull requests
(`vigil.bus.pull`): they hold no more than their room, keep pulling across a server restart,
and say what waits for them: /metrics shows the events a blocked sink leaves in JetStream."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import StaticEngine
from tests.services.test_nats import consumer_state, messages
from tests.waiting import wait_until
from vigil.api import metrics
from vigil.api.context import AppContext
from vigil.bus.base import Backlog
from vigil.bus.nats import NatsBus
from vigil.bus.nats_subscription import NatsSubscription
from vigil.config import StoreConfig
from vigil.domain.events import EventMessage
from vigil.services.nats import NatsServer
from vigil.store import EventSink, EventStore
from vigil.store.media import LocalMediaStore


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


def backlog_metrics(sink: EventSink, media_root: Path) -> dict[tuple[str, str], float]:
    app = FastAPI()
    app.state.context = AppContext(
        engine=StaticEngine([]), store=sink.store, media=LocalMediaStore(media_root),
        bus=sink.bus, sink=sink,
    )
    app.include_router(metrics.router)
    text = TestClient(app).get("/metrics").text
    return {(sample.labels["stream"], sample.labels["state"]): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == "vigil_sink_backlog_messages"}


def test_metrics_show_what_a_blocked_sink_leaves_in_jetstream(nats_dir: Path,
                                                              tmp_path: Path) -> None:
    database = tmp_path / "vigil.db"
    store = EventStore(f"sqlite:///{database}", busy_timeout_ms=20)
    store.migrate()
    outgoing = messages(30, cameras=30)[::2]  # 30 starts, an envelope each
    with NatsServer(nats_dir / "nats") as server:
        bus = NatsBus(server.url, prefix="backlog")
        sink = EventSink(store, bus, StoreConfig(batch_size=50, flush_ms=10),
                         retry_initial_s=0.02, retry_max_s=0.1)
        # Another process holds the database's write lock: the sink cannot commit.
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            sink.start()
            bus.publish_many(outgoing)
            events_stream = bus.streams()[0][0]
            wait_until(lambda: sink.backlog()[events_stream] == Backlog(0, 30))
            metrics = backlog_metrics(sink, tmp_path / "media")
            assert metrics[(events_stream, "unacknowledged")] == 30
            assert metrics[(events_stream, "waiting")] == 0

            blocker.execute("ROLLBACK")
            wait_until(lambda: sink.backlog()[events_stream] == Backlog(0, 0), timeout=20)
            assert backlog_metrics(sink, tmp_path / "media")[(events_stream, "unacknowledged")] == 0
            assert sink.stats.events_written == 30
        finally:
            blocker.close()
            sink.stop(timeout=10)
            bus.close()
            store.close()
