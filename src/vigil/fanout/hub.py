"""The fan-out hub of one API node: subscribers grouped by key, events matched once per key.

An event is looked up in an index by (tenant, camera), so the work per event is proportional
to the keys that match it, not to every key, let alone every connection; its SSE text is
encoded once and shared by every subscriber it goes to, and each subscriber's messages of one
batch go to its socket in one write made by the hub (no task per connection wakes up). A
subscriber is never waited for: its bounded buffer drops and reports (`Subscriber.push`). One
timer sends the keep-alives of every idle connection, and one query every `revalidate_s`
re-checks every session and token that holds a stream, closing those that were revoked.

Everything here runs on the event loop of the API server; the feed hands events over to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import TypeVar

from vigil.bus.base import Bus
from vigil.domain.events import EventMessage
from vigil.fanout.feed import Feed, feed_for
from vigil.fanout.key import StreamKey
from vigil.fanout.limits import StreamCounts, StreamLimitError, StreamLimits
from vigil.fanout.revocation import Credential, CredentialCheck, Grant
from vigil.fanout.stats import FanoutStats, tenant_label
from vigil.fanout.subscriber import Subscriber

log = logging.getLogger(__name__)
K = TypeVar("K")
BUFFER = 256  # messages a subscriber may fall behind before it is told it missed events
REVALIDATE_S = 5.0

__all__ = ["FanoutHub", "StreamLimitError", "StreamLimits"]


def sse_message(message: EventMessage) -> str:
    return f"event: {message.phase.value}\ndata: {message.event.model_dump_json()}\n\n"


class _Group:
    """The subscribers that share one key, and how many of them each tenant holds (so a
    delivery is counted against the subscriber's tenant without a loop per subscriber)."""

    __slots__ = ("key", "subscribers", "tenants")

    def __init__(self, key: StreamKey) -> None:
        self.key = key
        self.subscribers: set[Subscriber] = set()
        self.tenants: Counter[str] = Counter()


class FanoutHub:
    def __init__(
        self,
        bus: Bus,
        *,
        keepalive_s: Callable[[], float],
        limits: StreamLimits | None = None,
        check: CredentialCheck | None = None,
        buffer: int = BUFFER,
        revalidate_s: float = REVALIDATE_S,
        feed: Callable[
            [Bus, asyncio.AbstractEventLoop, Callable[[list[EventMessage]], None]], Feed
        ] = feed_for,
    ) -> None:
        self._bus = bus
        self._keepalive_s = keepalive_s
        self.counts = StreamCounts(limits or StreamLimits())
        self._check = check
        self._buffer = buffer
        self._revalidate_s = revalidate_s
        self._make_feed = feed
        self._feed: Feed | None = None
        self._groups: dict[StreamKey, _Group] = {}
        # Index: which groups an event of (tenant, camera) may go to.
        self._by_camera: dict[tuple[str, str], set[_Group]] = defaultdict(set)
        self._by_tenant: dict[str, set[_Group]] = defaultdict(set)  # every camera of a tenant
        self._by_camera_any: dict[str, set[_Group]] = defaultdict(set)  # any tenant's camera
        self._everything: set[_Group] = set()
        self._timer: asyncio.Task[None] | None = None
        self.stats = FanoutStats()
        self.delivered = 0
        self.events = 0

    # -- subscribers -----------------------------------------------------------------------

    async def join(
        self,
        key: StreamKey,
        *,
        user: str,
        tenant: str | None,
        credential: Credential | None,
        grant: Grant | None = None,
    ) -> Subscriber:
        """A new subscriber whose events flow from the moment this returns; raises
        StreamLimitError when the user or tenant has too many streams open."""
        if self._feed is None:
            self._feed = self._make_feed(self._bus, asyncio.get_running_loop(), self.dispatch)
        self.counts.take(user, tenant)
        subscriber = Subscriber(
            key,
            user=user,
            tenant=tenant,
            credential=credential,
            grant=grant,
            capacity=self._buffer,
        )
        try:
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = _Group(key)
                self._index(group, add=True)
            group.subscribers.add(subscriber)
            group.tenants[tenant_label(tenant)] += 1
            self.stats.connected[tenant_label(tenant)] += 1
            await self._feed.want(key)
        except BaseException:  # cancelled while subscribing: count nothing, hold nothing
            self.leave(subscriber)
            raise
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._tick())
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        group = self._groups.get(subscriber.key)
        if group is None or subscriber not in group.subscribers:
            return
        group.subscribers.discard(subscriber)
        label = tenant_label(subscriber.tenant)
        for counts in (group.tenants, self.stats.connected):
            counts[label] -= 1
            if counts[label] <= 0:
                del counts[label]
        self.counts.give_back(subscriber.user, subscriber.tenant)
        if self._feed is not None:
            self._feed.unwant(group.key)
        if not group.subscribers:
            del self._groups[group.key]
            self._index(group, add=False)
        if not self._groups:
            # Nobody listens: the node holds no bus subscription and no timer.
            if self._feed is not None:
                self._feed.close()
                self._feed = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    @property
    def subscribers(self) -> int:
        return sum(len(group.subscribers) for group in self._groups.values())

    @property
    def keys(self) -> int:
        return len(self._groups)

    def _index(self, group: _Group, *, add: bool) -> None:
        key = group.key
        if key.cameras is not None and not key.cameras:
            return  # sees nothing
        if key.tenants is None and key.cameras is None:
            if add:
                self._everything.add(group)
            else:
                self._everything.discard(group)
        elif key.tenants is None:
            assert key.cameras is not None
            _file(self._by_camera_any, key.cameras, group, add)
        elif key.cameras is None:
            _file(self._by_tenant, key.tenants, group, add)
        else:
            pairs = [(t, c) for t in key.tenants for c in key.cameras]
            _file(self._by_camera, pairs, group, add)

    # -- events ----------------------------------------------------------------------------

    def dispatch(self, messages: Iterable[EventMessage]) -> None:
        """Hand a batch of bus messages to every subscriber whose key matches."""
        by_camera, by_tenant = self._by_camera, self._by_tenant
        by_camera_any, everything = self._by_camera_any, self._everything
        delivered = self.stats.delivered
        touched: set[_Group] = set()
        for message in messages:
            event = message.event
            self.events += 1
            groups: list[_Group] = []
            for bucket in (
                by_camera.get((event.tenant, event.camera_id)),
                by_tenant.get(event.tenant),
                by_camera_any.get(event.camera_id),
                everything,
            ):
                if bucket:
                    groups.extend(bucket)
            text: str | None = None
            for group in groups:
                # The one check per key; the index only narrowed which keys are asked.
                if not group.key.matches(event):
                    continue
                if text is None:
                    text = sse_message(message)
                for subscriber in group.subscribers:
                    if subscriber.push(text, event.start_ms):
                        self._fell_behind(subscriber)
                touched.add(group)
                self.delivered += len(group.subscribers)
                for tenant, count in group.tenants.items():
                    delivered[tenant] += count
        # One write per subscriber for the whole batch, made here rather than by waking a task
        # per connection (`Subscriber.flush`, `vigil.fanout.writer`).
        for group in touched:
            for subscriber in group.subscribers:
                subscriber.flush()

    def _fell_behind(self, subscriber: Subscriber) -> None:
        """Count what a slow subscriber lost: its buffer of messages, and (once per notice it
        will get) one `missed`."""
        label = tenant_label(subscriber.tenant)
        self.stats.dropped[label] += subscriber.capacity
        if subscriber.missed == subscriber.capacity:  # the first overflow since its last notice
            self.stats.missed[label] += 1

    # -- keep-alives and revocation --------------------------------------------------------

    async def _tick(self) -> None:
        last_check = time.monotonic()
        while True:
            interval = self._keepalive_s()
            await asyncio.sleep(min(1.0, interval / 2))
            now = time.monotonic()
            for group in list(self._groups.values()):
                for subscriber in group.subscribers:
                    subscriber.heartbeat(now, interval)
            if self._check is not None and now - last_check >= self._revalidate_s:
                last_check = now
                await self._revalidate()

    async def _revalidate(self) -> None:
        held: dict[Credential, list[Subscriber]] = defaultdict(list)
        for group in self._groups.values():
            for subscriber in group.subscribers:
                if subscriber.credential is not None:
                    held[subscriber.credential].append(subscriber)
        if not held or self._check is None:
            return
        try:
            # A database round trip: off the event loop.
            valid = await asyncio.to_thread(self._check, list(held))
        except Exception as error:  # the store is down: keep streams, try again next time
            log.warning("fanout: could not re-check stream credentials: %s", error)
            return
        for credential, subscribers in held.items():
            now = valid.get(credential)
            for subscriber in subscribers:
                if now is None:
                    subscriber.close("revoked")
                elif subscriber.grant is not None and subscriber.grant != now:
                    subscriber.close("changed")  # reconnecting gets the new scope


def _file(index: dict[K, set[_Group]], names: Iterable[K], group: _Group, add: bool) -> None:
    """Add `group` to (or remove it from) the buckets `names` of `index`; empty buckets go."""
    for name in names:
        if add:
            index[name].add(group)
            continue
        bucket = index.get(name)
        if bucket is not None:
            bucket.discard(group)
            if not bucket:
                del index[name]
