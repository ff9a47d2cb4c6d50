"""The store sink on a real bus and a real SQLite file, including a real lock fault."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from tests.waiting import wait_until
from vigil.bus import MemoryBus
from vigil.config import StoreConfig
from vigil.domain.events import Event, EventMessage, EventState, Phase
from vigil.store import EventQuery, EventSink, EventStore

MakeEvent = Callable[..., Event]
BASE_MS = 1_795_000_000_000


def stored_count(store: EventStore) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM events")).scalar_one())


def test_stop_flushes_everything_pending(store: EventStore, make_event: MakeEvent) -> None:
    bus = MemoryBus()
    # A flush interval far longer than the test: only stop() can have written the tail.
    sink = EventSink(store, bus, StoreConfig(batch_size=500, flush_ms=60_000))
    sink.start()
    for i in range(1234):
        bus.publish(EventMessage(phase=Phase.END, event=make_event(start_ms=BASE_MS + i)))
    assert sink.stop(timeout=30)
    assert stored_count(store) == 1234
    stats = sink.stats
    assert stats.messages == 1234 and stats.events_written == 1234
    assert stats.batches >= 3 and stats.errors == 0 and stats.last_write_ms is not None


def test_partial_batch_is_written_after_flush_ms(store: EventStore, make_event: MakeEvent) -> None:
    bus = MemoryBus()
    sink = EventSink(store, bus, StoreConfig(batch_size=500, flush_ms=50))
    sink.start()
    event = make_event()
    bus.publish(EventMessage(phase=Phase.END, event=event))
    assert wait_until(lambda: store.get_event(event.id) is not None, timeout=3)
    sink.stop()


def test_messages_of_one_event_collapse_to_the_latest(
    store: EventStore, make_event: MakeEvent
) -> None:
    bus = MemoryBus()
    sink = EventSink(store, bus, StoreConfig(batch_size=500, flush_ms=60_000))
    sink.start()
    start = make_event(state=EventState.ACTIVE, type="zone.presence", zone="z", line=None,
                       direction=None, dwell_s=0.0)
    update = start.model_copy(update={"dwell_s": 5.0, "updated_ms": start.start_ms + 5000})
    end = update.model_copy(update={"state": EventState.ENDED, "dwell_s": 8.0,
                                    "end_ms": start.start_ms + 8000,
                                    "updated_ms": start.start_ms + 8000})
    for phase, event in ((Phase.START, start), (Phase.UPDATE, update), (Phase.END, end)):
        bus.publish(EventMessage(phase=phase, event=event))
    sink.stop()
    assert store.get_event(start.id) == end
    assert sink.stats.messages == 3 and sink.stats.events_written == 1


def test_retries_while_the_database_is_locked_and_loses_nothing(
    db_path: Path, make_event: MakeEvent
) -> None:
    store = EventStore(f"sqlite:///{db_path}", busy_timeout_ms=20)
    store.migrate()
    bus = MemoryBus()
    sink = EventSink(store, bus, StoreConfig(batch_size=50, flush_ms=10), retry_initial_s=0.02,
                     retry_max_s=0.1)
    sink.start()
    # Another process holds the write lock: every write attempt fails with "database is locked".
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    publisher = threading.Thread(
        target=lambda: [
            bus.publish(EventMessage(phase=Phase.END, event=make_event(start_ms=BASE_MS + i)))
            for i in range(300)
        ]
    )
    publisher.start()
    assert wait_until(lambda: sink.stats.errors >= 3)
    assert stored_count(store) == 0
    blocker.execute("ROLLBACK")
    blocker.close()
    publisher.join(10)
    assert sink.stop(timeout=30)
    stats = sink.stats
    assert stats.errors >= 3 and "locked" in (stats.last_error or "")
    assert stored_count(store) == 300 and stats.events_written == 300 and stats.rejected == 0
    store.close()


def test_an_event_the_database_refuses_does_not_block_the_others(
    store: EventStore, make_event: MakeEvent
) -> None:
    bus = MemoryBus()
    sink = EventSink(store, bus, StoreConfig(batch_size=500, flush_ms=60_000))
    sink.start()
    good = [make_event(start_ms=BASE_MS + i) for i in range(3)]
    bad = make_event(start_ms=BASE_MS + 10, attributes={"not json": object()})
    for event in (good[0], bad, good[1], good[2]):
        bus.publish(EventMessage(phase=Phase.END, event=event))
    assert sink.stop(timeout=10)
    page = store.query_events(EventQuery())
    assert {e.id for e in page.items} == {e.id for e in good}
    assert sink.stats.rejected == 1 and sink.stats.events_written == 3


def test_committed_bus_only_sees_events_the_store_already_has(
    store: EventStore, make_event: MakeEvent
) -> None:
    bus, committed = MemoryBus(), MemoryBus()
    follower = committed.subscribe("live-view")
    sink = EventSink(store, bus, StoreConfig(batch_size=500, flush_ms=20), committed=committed)
    sink.start()
    started = make_event(state=EventState.ACTIVE)
    ended = started.model_copy(update={"state": EventState.ENDED, "end_ms": started.start_ms + 5})
    bus.publish(EventMessage(phase=Phase.START, event=started))
    bus.publish(EventMessage(phase=Phase.END, event=ended))
    seen = []
    for _ in range(2):
        message = follower.get(timeout=5)
        assert message is not None
        # Anyone told of the event can fetch it (and its snapshot) from the store at once.
        assert store.get_event(message.event.id) is not None
        seen.append(message.phase)
    assert seen == [Phase.START, Phase.END]  # every step of its life, in order
    sink.stop()


class _BatchBus(MemoryBus):
    """A committed bus that, like NATS, publishes a batch in one call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[EventMessage]] = []

    def publish_many(self, messages: list[EventMessage]) -> int:
        self.calls.append(list(messages))
        for message in messages:
            self.publish(message)
        return len(messages)


def test_committed_messages_are_republished_in_one_call_per_batch(
    store: EventStore, make_event: MakeEvent
) -> None:
    bus, committed = MemoryBus(), _BatchBus()
    sink = EventSink(store, bus, StoreConfig(batch_size=500, flush_ms=60_000),
                     committed=committed)
    sink.start()
    published = [EventMessage(phase=Phase.END, event=make_event(start_ms=BASE_MS + i))
                 for i in range(1200)]
    for message in published:
        bus.publish(message)
    assert sink.stop(timeout=30)
    assert [len(call) for call in committed.calls] == [500, 500, 200]
    assert [m for call in committed.calls for m in call] == published  # in order


class _FailingAcks:
    """A subscription whose acknowledgements fail, as on a bus that lost its leader."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.failures = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def ack(self, messages: object) -> None:
        self.failures += 1
        raise TimeoutError("no leader")


def test_a_failed_acknowledgement_does_not_stop_the_sink(
    store: EventStore, make_event: MakeEvent
) -> None:
    bus = MemoryBus()
    subscriptions: list[_FailingAcks] = []

    def subscribe(name: str, **options: object) -> _FailingAcks:
        subscriptions.append(_FailingAcks(MemoryBus.subscribe(bus, name)))
        return subscriptions[-1]

    bus.subscribe = subscribe  # type: ignore[method-assign, assignment]
    sink = EventSink(store, bus, StoreConfig(batch_size=50, flush_ms=10))
    sink.start()
    for i in range(200):
        bus.publish(EventMessage(phase=Phase.END, event=make_event(start_ms=BASE_MS + i)))
    assert wait_until(lambda: stored_count(store) == 200, timeout=10)
    assert sink.stop(timeout=10)
    assert subscriptions[0].failures >= 4 and sink.stats.errors >= 4


def test_rows_from_the_bus_are_written_and_republished_as_messages(
    store: EventStore, make_event: MakeEvent
) -> None:
    from vigil.domain.event_rows import EventRow, copy_row

    bus, committed = MemoryBus(), MemoryBus()
    # A bus that delivers events as rows, as NATS batch envelopes do.
    bus.subscribe_rows = lambda name: MemoryBus.subscribe(bus, name)  # type: ignore[attr-defined]
    follower = committed.subscribe("live-view")
    sink = EventSink(store, bus, StoreConfig(batch_size=500, flush_ms=20), committed=committed)
    sink.start()
    started = make_event(state=EventState.ACTIVE)
    ended = started.model_copy(update={"state": EventState.ENDED, "end_ms": started.start_ms + 5,
                                       "updated_ms": started.start_ms + 5})
    others = [make_event(start_ms=BASE_MS + i) for i in range(1, 4)]
    sent = [EventMessage(phase=Phase.START, event=started), *(
        EventMessage(phase=Phase.END, event=event) for event in [ended, *others])]
    for message in sent:
        bus.publish(EventRow(message.phase.value, copy_row(message.event)))  # type: ignore[arg-type]
    assert sink.stop(timeout=10)
    assert store.get_event(started.id) == ended
    assert {e.id for e in store.query_events(EventQuery()).items} == {started.id} | {
        e.id for e in others}
    assert [follower.get(timeout=1) for _ in sent] == sent
