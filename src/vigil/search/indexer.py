"""The indexer: a thread that keeps the search index up to date from the `committed` bus.

The committed bus carries events once the store has them, so whatever search finds can be
fetched. Messages are collected for up to `flush_s` and indexed in one batch (only captions not
seen before are embedded), so an event is searchable about a second after it is stored.

The subscription is lossy: a slow indexer (a burst of new captions to embed) must never stall
the store sink and the pipeline behind it. Nothing is lost for good, though: at start and
whenever the subscription reports dropped messages, the indexer catches up from the store
(events updated since shortly before the newest one it has indexed), and once an hour it forgets
events that retention deleted from the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from vigil.bus.base import Bus, Subscription
from vigil.bus.consumer import BusConsumer
from vigil.bus.gather import gather
from vigil.domain.events import Event, EventMessage
from vigil.search.service import SearchService
from vigil.store.store import EventStore

log = logging.getLogger(__name__)

CATCH_UP_MARGIN_MS = 3_600_000
SWEEP_EVERY_S = 3600.0


@dataclass(slots=True)
class IndexerStats:
    messages: int = 0
    indexed: int = 0
    batches: int = 0
    catch_ups: int = 0
    removed: int = 0
    errors: int = 0
    last_error: str | None = None


class SearchIndexer(BusConsumer[list[Event]]):
    def __init__(
        self,
        service: SearchService,
        bus: Bus,
        *,
        name: str = "search-indexer",
        flush_s: float = 0.5,
        batch_size: int = 2000,
        max_pending: int = 50_000,
    ) -> None:
        super().__init__(name)
        self.service = service
        self.bus = bus
        self.flush_s = flush_s
        self.batch_size = batch_size
        self.max_pending = max_pending
        self._stats = IndexerStats()
        self._lock = threading.Lock()
        self._dropped_seen = 0
        self._last_sweep = time.monotonic()

    @property
    def stats(self) -> IndexerStats:
        with self._lock:
            return replace(self._stats)

    def stop(self, timeout: float | None = 30.0) -> bool:
        """Index what has arrived, then stop."""
        return super().stop(timeout)

    def subscribe(self) -> Subscription:
        # Subscribed before the catch-up starts, so nothing falls between the two.
        return self.bus.subscribe(self.name, lossless=False, max_pending=self.max_pending)

    def started(self) -> None:
        self._guard(self.catch_up)

    def handle(self, batch: list[Event]) -> None:
        self._guard(partial(self._index, batch))

    def between_batches(self, subscription: Subscription) -> None:
        if subscription.dropped > self._dropped_seen:
            self._dropped_seen = subscription.dropped
            log.warning("search indexer fell behind; catching up from the store")
            self._guard(self.catch_up)
        if time.monotonic() - self._last_sweep > SWEEP_EVERY_S:
            self._last_sweep = time.monotonic()
            self._guard(self.sweep)

    def collect(self, subscription: Subscription, first_wait: float) -> list[Event]:
        events: list[Event] = []
        for message in gather(
            subscription, first_wait=first_wait, flush_s=self.flush_s, stopping=self._stopping,
            is_full=lambda: len(events) >= self.batch_size,
        ):
            if isinstance(message, EventMessage):
                events.append(message.event)
        with self._lock:
            self._stats.messages += len(events)
        return events

    def _index(self, events: list[Event]) -> None:
        written = self.service.index.index_events(events)
        with self._lock:
            self._stats.indexed += written
            self._stats.batches += 1

    def catch_up(self) -> int:
        """Index stored events the index may have missed; returns how many were written."""
        written = catch_up(self.service, self._stopping.is_set)
        with self._lock:
            self._stats.catch_ups += 1
            self._stats.indexed += written
        return written

    def sweep(self) -> int:
        """Forget indexed events that the store no longer has."""
        removed, after = 0, 0
        while not self._stopping.is_set():
            rows = self.service.index.event_ids(after, 1000)
            if not rows:
                break
            after = rows[-1][0]
            gone = self.service.missing_events([event_id for _, event_id in rows])
            removed += self.service.index.remove(gone)
        with self._lock:
            self._stats.removed += removed
        return removed

    def _guard(self, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception as error:  # the thread must survive a bad batch or a locked file
            log.exception("search indexer: %s", error)
            with self._lock:
                self._stats.errors += 1
                self._stats.last_error = f"{type(error).__name__}: {error}"[:300]


def catch_up(service: SearchService, stopping: Callable[[], bool] = lambda: False) -> int:
    """Index the stored events updated since shortly before the newest indexed one (all of
    them for an empty index); returns how many index rows were written."""
    newest = service.index.max_updated_ms()
    since = None if newest is None else newest - CATCH_UP_MARGIN_MS
    written = 0
    for batch in service.all_events(since_updated_ms=since):
        if stopping():
            break
        written += service.index.index_events(batch)
    return written


def reindex(service: SearchService, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the whole index from the store; `progress(done, total)` after each batch."""
    total = service.count_events()
    service.index.clear()
    done = 0
    if progress is not None:
        progress(0, total)
    for batch in service.all_events(batch=2000):
        service.index.index_events(batch)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return done


def start_indexer(config: Any, store: EventStore, committed: Bus) -> SearchIndexer | None:
    """The runtime's indexer over `committed`, started; None (and a warning) when search
    cannot run here (its model files are missing), so analysis and serving go on without it."""
    from vigil.search.embedding import MODEL_FILE, TOKENIZER_FILE, EmbeddingError

    missing = [str(path) for path in (MODEL_FILE, TOKENIZER_FILE) if not path.is_file()]
    if missing:
        log.warning("search index disabled: %s missing (see models/PROVENANCE.md)",
                    ", ".join(missing))
        return None
    try:
        service = SearchService.for_store(store, config=config)
        indexer = SearchIndexer(service, committed)
        indexer.start()
    except (EmbeddingError, OSError) as error:
        log.warning("search index disabled: %s", error)
        return None
    return indexer
