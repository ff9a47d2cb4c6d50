"""The indexer thread: events on the committed bus are searchable within seconds; what it
missed (dropped messages, events stored while it was down) is caught up from the store; events
deleted from the store are forgotten."""

from __future__ import annotations

import time

from tests.search.labelled import NOW_MS
from tests.waiting import wait_until
from vigil.bench.synthetic import synthetic_events
from vigil.bus import MemoryBus
from vigil.domain.events import EventMessage, Phase
from vigil.search.indexer import SearchIndexer, catch_up
from vigil.search.service import SearchRequest, SearchService
from vigil.store import EventStore


def test_committed_events_become_searchable_within_seconds(
    store: EventStore, service: SearchService
) -> None:
    bus = MemoryBus()
    indexer = SearchIndexer(service, bus, flush_s=0.2)
    indexer.start()
    try:
        events = list(synthetic_events(40, seed=3, end_ms=NOW_MS))
        store.upsert_events(events)
        started = time.monotonic()
        for event in events:
            bus.publish(EventMessage(phase=Phase.END, event=event))
        wait_until(lambda: service.index.stats()["events"] == len(events), 20)
        assert time.monotonic() - started < 5.0
        found = service.search(SearchRequest(q="person", tz="UTC", limit=100), None,
                               now=NOW_MS).result
        expected = [e for e in events if e.object and e.object.class_name == "person"]
        assert found.total == len(expected)
    finally:
        assert indexer.stop(10)
    stats = indexer.stats
    assert stats.messages == len(events) and stats.errors == 0


def test_catch_up_and_sweep(store: EventStore, service: SearchService) -> None:
    events = list(synthetic_events(60, seed=5, end_ms=NOW_MS))
    store.upsert_events(events)
    # Stored while no indexer ran: the next start catches up from the store.
    bus = MemoryBus()
    indexer = SearchIndexer(service, bus)
    indexer.start()
    try:
        wait_until(lambda: service.index.stats()["events"] == len(events), 20)
    finally:
        indexer.stop(10)
    assert catch_up(service) == 0  # nothing new: nothing written
    # Retention deleted some events: the sweep forgets them.
    from vigil.store.schema import events as table

    gone = [e.id for e in events[:7]]
    with store.engine.begin() as connection:
        connection.execute(table.delete().where(table.c.id.in_(gone)))
    assert SearchIndexer(service, bus).sweep() == 7
    assert service.index.stats()["events"] == len(events) - 7


def test_a_slow_indexer_never_blocks_the_bus(store: EventStore, service: SearchService) -> None:
    """The subscription is lossy: publishing never waits for the indexer; what it dropped is
    caught up from the store."""
    events = list(synthetic_events(50, seed=8, end_ms=NOW_MS))
    store.upsert_events(events)
    bus = MemoryBus()
    indexer = SearchIndexer(service, bus, max_pending=5)
    indexer.start()
    try:
        started = time.monotonic()
        for event in events * 4:
            bus.publish(EventMessage(phase=Phase.UPDATE, event=event))
        assert time.monotonic() - started < 1.0
        wait_until(lambda: service.index.stats()["events"] == len(events), 20)
    finally:
        indexer.stop(10)
