"""The store sink: a thread that writes every event on the bus to the event store in batches.

Its bus subscription is lossless, so while the database is unavailable the sink keeps retrying
the same batch and the bus holds further messages, slowing publishers instead of losing data.
Once a batch is committed, its messages are republished on the `committed` bus: live views
that follow it never show an event (or ask for its snapshot) before the store can serve it.

Events are written as rows (`vigil.domain.event_rows`). On a bus that can deliver them in that form
(`subscribe_rows`: NATS batch envelopes) the sink never builds an `Event` for them, unless it
has a committed bus to republish to.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from vigil.bus.base import Backlog, Bus, Subscription
from vigil.bus.consumer import BusConsumer
from vigil.bus.gather import gather
from vigil.config import StoreConfig
from vigil.domain.event_rows import ID, EventRow, Row, copy_row, row_supersedes
from vigil.domain.events import EventMessage
from vigil.domain.frames import now_ms
from vigil.domain.series_points import SeriesMessage, SeriesPoint
from vigil.store.events import upsert_rows
from vigil.store.store import EventStore

log = logging.getLogger(__name__)

# Errors that a later attempt can overcome: a locked or unreachable database. Anything else
# means the database refuses the data itself, and retrying the same batch would stall forever.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (sa.exc.OperationalError, sa.exc.InterfaceError)


@dataclass(slots=True)
class SinkStats:
    messages: int = 0
    events_written: int = 0
    batches: int = 0
    errors: int = 0
    rejected: int = 0
    last_error: str | None = None
    last_write_ms: int | None = None


@dataclass(slots=True)
class _Batch:
    """What one write cycle collected from the bus."""

    rows: dict[str, Row] = field(default_factory=dict)  # latest state per event id
    messages: list[EventMessage | EventRow] = field(default_factory=list)
    points: list[SeriesPoint] = field(default_factory=list)
    received: int = 0
    delivered: list[Any] = field(default_factory=list)  # to acknowledge once written
    # Events that cannot even be made a row (id, error, what came): refused like the database
    # would, never the end of the sink.
    unwritable: list[tuple[str, Exception, object]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.received > 0

    def add(self, message: EventMessage | EventRow | SeriesMessage) -> None:
        self.received += 1
        self.delivered.append(message)
        if isinstance(message, SeriesMessage):
            self.points.extend(message.points)
            return
        try:
            row = message.row if isinstance(message, EventRow) else copy_row(message.event)
            current = self.rows.get(row[ID])
            if current is None or row_supersedes(row, current):
                self.rows[row[ID]] = row
        except (TypeError, ValueError, IndexError) as error:  # attributes that are not JSON …
            event_id = message.id if isinstance(message, EventRow) else message.event.id
            self.unwritable.append((str(event_id), error, message))
            return
        self.messages.append(message)


def _messages(written: list[EventMessage | EventRow], refused: set[str]) -> list[EventMessage]:
    """The event messages of `written` but those of refused events, as `EventMessage`s."""
    out = []
    for message in written:
        if isinstance(message, EventMessage):
            if message.event.id not in refused:
                out.append(message)
            continue
        if message.id in refused:
            continue
        try:
            out.append(message.message())
        except ValueError as error:
            # Stored (the database took it) but not a valid event for those who follow the
            # committed bus: they do without it rather than stall the sink.
            log.error("event %s not republished: %s", message.id, error)
    return out


class EventSink(BusConsumer[_Batch]):
    """Start it before anything publishes; `stop()` writes everything received, then returns."""

    def __init__(
        self,
        store: EventStore,
        bus: Bus,
        config: StoreConfig | None = None,
        *,
        committed: Bus | None = None,
        name: str = "store-sink",
        retry_initial_s: float = 0.05,
        retry_max_s: float = 5.0,
    ) -> None:
        super().__init__(name)
        config = config or StoreConfig()
        self.store = store
        self.bus = bus
        self.committed = committed
        self.batch_size = config.batch_size
        self.flush_s = config.flush_ms / 1000
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self._stats = SinkStats()
        self._stats_lock = threading.Lock()

    @property
    def stats(self) -> SinkStats:
        """A consistent copy of the counters."""
        with self._stats_lock:
            return replace(self._stats)

    def backlog(self) -> dict[str, Backlog]:
        """By stream, the bus messages waiting for this sink and its peers, where the bus can
        tell (NATS JetStream); empty otherwise."""
        return self._subscription.backlog() if self._subscription is not None else {}

    def subscribe(self) -> Subscription:
        # A bus that delivers events as rows spares the sink a model per message.
        return self.bus.subscribe_rows(self.name)

    def handle(self, batch: _Batch) -> None:
        self._write(batch)

    def collect(self, subscription: Subscription, first_wait: float) -> _Batch:
        """Up to `batch_size` distinct events (and any series points), waiting at most
        `flush_s` after the first message; once stopping, only what is already queued."""
        batch = _Batch()
        for message in gather(
            subscription, first_wait=first_wait, flush_s=self.flush_s, stopping=self._stopping,
            is_full=lambda: len(batch.rows) + len(batch.points) >= self.batch_size,
        ):
            batch.add(message)
        if batch.received:
            with self._stats_lock:
                self._stats.messages += batch.received
        return batch

    def _write(self, batch: _Batch) -> None:
        refused: set[str] = set()
        for event_id, error, what in batch.unwritable:
            refused.add(self._refuse(event_id, error, what))
        rows = list(batch.rows.values())
        if rows:
            try:
                self._upsert_retrying(rows)
            except Exception as error:
                self._record_error(error)
                refused |= self._write_one_by_one(rows)
        if batch.points:
            self._write_series(batch.points)
        if self.committed is not None:
            try:
                # In one call: on NATS one publish per message would wait for an
                # acknowledgement each and bound the sink to a few thousand messages a second.
                self.committed.publish_many(_messages(batch.messages, refused))
            except Exception as error:
                # Left unacknowledged, the batch comes again: written again (a no-op) and
                # republished, so followers of the committed bus miss nothing.
                self._record_error(error)
                log.error("could not republish %d committed messages: %s",
                          len(batch.messages), error)
                return
        # A bus with acknowledgements (NATS JetStream) redelivers what is not acknowledged:
        # acknowledge only now, after the commit (refused messages were logged in full).
        assert self._subscription is not None
        try:
            self._subscription.ack(batch.delivered)
        except Exception as error:
            # Unacknowledged messages come again (a bus that lost its leader, say); the
            # writes are idempotent, so a failed ack costs a rewrite, never the sink thread.
            self._record_error(error)
            log.warning("could not acknowledge %d messages: %s", len(batch.delivered), error)

    def _write_series(self, points: list[SeriesPoint]) -> None:
        """Statistics points, retried like events while the database is unavailable; points
        it refuses outright are logged and dropped (they are aggregates, not evidence)."""
        delay = self.retry_initial_s
        while True:
            try:
                self.store.upsert_series(points)
                return
            except TRANSIENT_ERRORS as error:
                self._record_error(error)
                time.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)
            except Exception as error:
                self._record_error(error)
                log.error("event store refused %d series points: %s", len(points), error)
                return

    def _write_one_by_one(self, rows: list[Row]) -> set[str]:
        """Isolate the events the database refuses, so one bad event cannot block the rest.
        A refused event is logged in full and counted; nothing else is left unwritten.
        Returns the ids of the refused events."""
        refused: set[str] = set()
        for row in rows:
            try:
                self._upsert_retrying([row])
            except Exception as error:
                refused.add(self._refuse(row[ID], error, row))
        return refused

    def _refuse(self, event_id: str, error: Exception, event: object) -> str:
        self._record_error(error)
        with self._stats_lock:
            self._stats.rejected += 1
        log.error("event store refused event %s: %s; event: %r", event_id, error, event)
        return event_id

    def _upsert_retrying(self, rows: list[Row]) -> None:
        """Write `rows`, retrying transient errors with exponential backoff until it works."""
        delay = self.retry_initial_s
        while True:
            try:
                written = upsert_rows(self.store.engine, rows)
            except TRANSIENT_ERRORS as error:
                self._record_error(error)
                log.warning("event store unavailable, retrying in %.2f s: %s", delay, error)
                time.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            with self._stats_lock:
                self._stats.events_written += written
                self._stats.batches += 1
                self._stats.last_write_ms = now_ms()
            return

    def _record_error(self, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}".splitlines()[0][:500]
        with self._stats_lock:
            self._stats.errors += 1
            self._stats.last_error = message
