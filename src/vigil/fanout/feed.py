"""Where an API node's live events come from: one feed per node, never one per connection.

`WholeBusFeed` reads every event the bus carries through one lossy subscription (the
in-process bus, and any bus without subject filters). `NatsFeed` subscribes to only the NATS
subjects the node's subscribers need — `<prefix>.events.<tenant>.<camera>`, or the tenant's
`.>` when someone watches all its cameras — so that an event crosses the network once per node
that has a subscriber for it, and not at all to the others. Either hands events over to the
hub's event loop in batches, one wake-up per batch.

Subjects only narrow what arrives; the hub still matches every event against each key, so an
event on the wrong subject (tenant ids that map to the same subject token) reaches nobody who
may not see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from vigil.bus.base import Bus
from vigil.domain.events import EventMessage
from vigil.fanout.key import StreamKey

log = logging.getLogger(__name__)
Deliver = Callable[[list[EventMessage]], None]
FEED_NAME = "sse-fanout"
# Lossy buffer of the node's one subscription: generous, since it is one per node.
FEED_PENDING = 100_000
BATCH_MAX = 2_000


class Feed(Protocol):
    async def want(self, key: StreamKey) -> None:
        """A subscriber with `key` joined: make sure its events arrive."""
        ...

    def unwant(self, key: StreamKey) -> None:
        """One subscriber with `key` left."""
        ...

    def close(self) -> None: ...


class WholeBusFeed:
    """Every event on the bus, through one lossy subscription held while anyone listens."""

    def __init__(self, bus: Bus, loop: asyncio.AbstractEventLoop, deliver: Deliver) -> None:
        self._bus = bus
        self._loop = loop
        self._deliver = deliver
        self._wanted = 0
        self._reader: threading.Thread | None = None
        self._stop: threading.Event | None = None

    async def want(self, key: StreamKey) -> None:
        self._wanted += 1
        if self._reader is None:
            # Subscribed before the connection is told it is connected: nothing published
            # after ": connected" is missed.
            subscription = self._bus.subscribe(FEED_NAME, lossless=False, max_pending=FEED_PENDING)
            self._stop = threading.Event()
            self._reader = threading.Thread(
                target=self._read,
                args=(subscription, self._stop),
                name="fanout-feed",
                daemon=True,
            )
            self._reader.start()

    def unwant(self, key: StreamKey) -> None:
        self._wanted -= 1
        if self._wanted <= 0:
            self.close()

    def close(self) -> None:
        self._wanted = 0
        if self._stop is not None:
            self._stop.set()
        self._reader, self._stop = None, None

    def _read(self, subscription: Any, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                message = subscription.get(timeout=0.2)
                if message is None:
                    continue
                batch = [message] if isinstance(message, EventMessage) else []
                # Whatever else is already there goes in the same hand-over.
                while len(batch) < BATCH_MAX and (more := subscription.get(timeout=0)):
                    if isinstance(more, EventMessage):  # statistics points are not events
                        batch.append(more)
                if batch and not stop.is_set():
                    self._loop.call_soon_threadsafe(self._deliver, batch)
        except RuntimeError:
            pass  # the hub's loop closed under us (server shut down)
        finally:
            subscription.close()


def subjects_for(key: StreamKey, prefix: str) -> list[str]:
    """The NATS subjects that carry every event `key` matches, as few and as narrow as
    possible."""
    from vigil.bus.nats_codec import token

    base = f"{prefix}.events"
    if key.cameras is not None and not key.cameras:
        return []
    if key.tenants is None:
        if key.cameras is None:
            return [f"{base}.>"]
        return [f"{base}.*.{token(camera)}" for camera in sorted(key.cameras)]
    if key.cameras is None:
        return [f"{base}.{token(tenant)}.>" for tenant in sorted(key.tenants)]
    return [
        f"{base}.{token(t)}.{token(c)}" for t in sorted(key.tenants) for c in sorted(key.cameras)
    ]


class NatsFeed:
    """Core-NATS subscriptions to the subjects this node's keys need, counted per subject.

    Overlapping subjects (a tenant's `.>` and one of its cameras) would bring a message twice;
    it is handed on only by the most specific active subscription that matches it. A subject
    counts as active once its subscription is in place and stops counting before it is
    removed, so that a message is never dropped by both while subscriptions change.
    """

    def __init__(self, bus: Any, loop: asyncio.AbstractEventLoop, deliver: Deliver) -> None:
        self._bus = bus
        self._loop = loop
        self._deliver = deliver
        self._counts: Counter[str] = Counter()
        self._active: set[str] = set()
        self._subs: dict[str, Any] = {}
        self._pending: list[EventMessage] = []
        self._lock = threading.Lock()  # shared with the bus's thread
        self._bus_loop: asyncio.AbstractEventLoop = bus.call(_running_loop(), timeout=10)

    async def want(self, key: StreamKey) -> None:
        waits = []
        for subject in subjects_for(key, self._bus.prefix):
            with self._lock:
                self._counts[subject] += 1
                first = self._counts[subject] == 1
            if first:
                waits.append(
                    asyncio.wrap_future(
                        asyncio.run_coroutine_threadsafe(self._subscribe(subject), self._bus_loop)
                    )
                )
        # The subscriber is told it is connected once its subjects are subscribed.
        await asyncio.gather(*waits)

    def unwant(self, key: StreamKey) -> None:
        for subject in subjects_for(key, self._bus.prefix):
            with self._lock:
                self._counts[subject] -= 1
                if self._counts[subject] > 0:
                    continue
                del self._counts[subject]
                self._active.discard(subject)
            # Not waited for: a connection that ends must not wait on the network.
            asyncio.run_coroutine_threadsafe(self._unsubscribe(subject), self._bus_loop)

    def close(self) -> None:
        with self._lock:
            subjects = list(self._counts)
            self._counts.clear()
            self._active.clear()
        for subject in subjects:
            asyncio.run_coroutine_threadsafe(self._unsubscribe(subject), self._bus_loop)

    @property
    def subjects(self) -> set[str]:
        with self._lock:
            return set(self._active)

    # Run on the bus's loop, in the order they were asked for.
    async def _subscribe(self, subject: str) -> None:
        if subject not in self._subs:
            self._subs[subject] = await self._bus.nc.subscribe(
                subject, cb=functools.partial(self._on_message, subject)
            )
            # SUB is only sent, not confirmed: one round trip makes sure the server applies it
            # before the subscriber is told it is connected (or an event published right
            # after, from another connection, could pass it by).
            try:
                await self._bus.nc.flush(timeout=5)
            except Exception as error:  # slow server: the subscription still comes into force
                log.warning("fanout: NATS did not confirm subscribing to %s: %s", subject, error)
        with self._lock:
            if self._counts[subject] > 0:
                self._active.add(subject)

    async def _unsubscribe(self, subject: str) -> None:
        with self._lock:
            if self._counts[subject] > 0:
                return  # wanted again meanwhile
        sub = self._subs.pop(subject, None)
        if sub is not None:
            await sub.unsubscribe()

    def _owner(self, subject: str) -> str | None:
        """The most specific active subscription matching a message's `subject`."""
        parts = subject.split(".")
        if len(parts) < 4:
            return None
        prefix, tenant, camera = ".".join(parts[:-2]), parts[-2], parts[-1]
        for candidate in (
            f"{prefix}.{tenant}.{camera}",
            f"{prefix}.*.{camera}",
            f"{prefix}.{tenant}.>",
            f"{prefix}.>",
        ):
            if candidate in self._active:
                return candidate
        return None

    async def _on_message(self, subscribed: str, msg: Any) -> None:
        from vigil.bus.nats_codec import decode

        with self._lock:
            if self._owner(msg.subject) != subscribed:
                return
        try:
            messages = decode(msg.subject, msg.data, msg.headers)
        except ValueError as error:
            log.warning("fanout: undecodable message on %s dropped: %s", msg.subject, error)
            return
        events = [m for m in messages if isinstance(m, EventMessage)]
        if not events:
            return
        with self._lock:
            first = not self._pending
            self._pending.extend(events)
        if first:
            # One hand-over per burst the bus's loop received, not one per message.
            asyncio.get_running_loop().call_soon(self._hand_over)

    def _hand_over(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            # A closed hub loop means the node is shutting down.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._deliver, batch)


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def feed_for(bus: Bus, loop: asyncio.AbstractEventLoop, deliver: Deliver) -> Feed:
    """Per-subject subscriptions on NATS; the whole bus otherwise."""
    try:
        from vigil.bus.nats import NatsBus
    except ImportError:  # nats-py not installed: only the in-process bus exists
        return WholeBusFeed(bus, loop, deliver)
    if isinstance(bus, NatsBus):
        return NatsFeed(bus, loop, deliver)
    return WholeBusFeed(bus, loop, deliver)
