"""A subscription to the NATS bus: a durable JetStream pull consumer (lossless, acknowledged
after the subscriber handled a message) or a core-NATS subscription with a bounded drop-oldest
queue (lossy, for live views). Messages cross from the bus's event loop to the subscriber's
thread in hand-overs, one per pull.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import nats
from nats.js import api

from vigil.bus.base import Backlog, Delivered
from vigil.bus.nats_codec import decode, token
from vigil.bus.pull import PullConsumer

if TYPE_CHECKING:
    from vigil.bus.nats import NatsBus

log = logging.getLogger(__name__)


@dataclass(slots=True, eq=False)
class _Delivery:
    """One JetStream message handed to the subscriber, acknowledged once all it carries are."""

    msg: Any
    remaining: int


# What one JetStream message brought, and the delivery to acknowledge once all of it is
# (None: a core subscription, nothing to acknowledge).
_Handed = tuple[list[Delivered], _Delivery | None]


class NatsSubscription:
    """A durable pull consumer (lossless) or a core subscription (lossy)."""

    def __init__(self, bus: NatsBus, name: str, lossless: bool, max_pending: int,
                 rows: bool = False) -> None:
        self.bus = bus
        self.name = name
        self.lossless = lossless
        self.max_pending = max_pending
        self.rows = rows
        # Deliveries (a single message or an envelope's messages) cross threads in hand-overs:
        # all the loop received in one go, so that the subscriber's thread is woken once per
        # pull, not once per message. `get` hands them out one message at a time.
        self._queue: queue.Queue[list[_Handed]] = queue.Queue()
        self._handing: list[_Handed] = []
        self._current: collections.deque[Delivered] = collections.deque()
        self._queued = 0  # messages in `_queue` and `_current`
        self._queued_lock = threading.Lock()
        self._unacked: dict[int, _Delivery] = {}
        self._dropped = 0
        self._ack_errors = 0
        self._closed = False
        self._consumers: list[PullConsumer] = []
        self._per_delivery = 1.0  # bus messages per JetStream message lately
        self._subs: list[Any] = []

    # -- consumer side (event loop thread) -------------------------------------------------

    async def _start(self) -> None:
        if self.lossless:
            for stream, subject in self.bus.streams():
                config = api.ConsumerConfig(
                    ack_policy=api.AckPolicy.EXPLICIT,
                    ack_wait=self.bus.ack_wait_s,
                    max_ack_pending=max(self.max_pending * 2, 1000),
                    max_deliver=-1,
                )
                consumer = PullConsumer(self.bus.nc, self.bus.js, stream, subject,
                                        token(self.name), config, self._on_pulled, self._room)
                await consumer.start()
                self._consumers.append(consumer)
        else:
            for _, subject in self.bus.streams():
                self._subs.append(await self.bus.nc.subscribe(subject, cb=self._on_core))

    def _count(self, delta: int) -> None:
        with self._queued_lock:
            self._queued += delta

    def _room(self) -> int:
        """JetStream messages there is room for: envelopes carry many bus messages each."""
        return int((self.max_pending - self._queued) / self._per_delivery)

    async def _on_pulled(self, msg: Any) -> None:
        try:
            messages = decode(msg.subject, msg.data, msg.headers, rows=self.rows)
        except ValueError as error:
            log.error("nats: undecodable message on %s dropped: %s", msg.subject, error)
            with contextlib.suppress(Exception):
                await msg.term()  # never decodable: do not redeliver forever
            return
        self._per_delivery = 0.8 * self._per_delivery + 0.2 * max(len(messages), 1)
        if not messages:
            with contextlib.suppress(Exception):
                await msg.ack()
            return
        self._count(len(messages))
        if not self._handing:
            asyncio.get_running_loop().call_soon(self._hand_over)
        self._handing.append((messages, _Delivery(msg, len(messages))))

    def _hand_over(self) -> None:
        handing, self._handing = self._handing, []
        self._queue.put(handing)

    async def _on_core(self, msg: Any) -> None:
        try:
            messages = decode(msg.subject, msg.data, msg.headers)
        except ValueError as error:
            log.warning("nats: undecodable message on %s dropped: %s", msg.subject, error)
            return
        for message in messages:
            while self._queued >= self.max_pending and self._drop_oldest():
                pass
            self._count(1)
            self._queue.put([([message], None)])

    def _drop_oldest(self) -> bool:
        try:
            handed = self._queue.get_nowait()
        except queue.Empty:
            return False
        dropped = sum(len(messages) for messages, _ in handed)
        self._count(-dropped)
        self._dropped += dropped
        return True

    # -- Subscription protocol (caller's thread) -------------------------------------------

    def get(self, timeout: float | None = None) -> Any:
        """The next message (an `EventRow` for an enveloped event of a row subscription), or
        None when `timeout` seconds pass without one."""
        if not self._current:
            try:
                handed = self._queue.get(timeout=timeout)
            except queue.Empty:
                return None
            for messages, delivery in handed:
                if delivery is not None:
                    for message in messages:
                        self._unacked[id(message)] = delivery
                self._current.extend(messages)
        message = self._current.popleft()
        self._count(-1)
        return message

    def ack(self, messages: Iterable[Delivered]) -> None:
        """Acknowledge `messages` (returned by `get`): JetStream will not deliver them again.
        An envelope is acknowledged once every message it carried is. A failed acknowledgement
        (the connection is down) is logged, not raised: the message comes again after the ack
        wait, and the store's idempotent writes absorb it."""
        done = []
        for message in messages:
            delivery = self._unacked.pop(id(message), None)
            if delivery is None:
                continue
            delivery.remaining -= 1
            if delivery.remaining == 0:
                done.append(delivery.msg)
        if not done:
            return
        try:
            self.bus.call(_ack_all(done), timeout=30)
        except Exception as error:
            self._ack_errors += 1
            log.warning("nats: %d acknowledgements failed (they will be redelivered): %s",
                        len(done), error)

    def backlog(self, timeout: float = 2.0) -> dict[str, Backlog]:
        """By stream, what this subscription's durable consumer has not finished (shared by
        every process subscribed under the same name); nothing for a lossy subscription."""
        return self.bus.backlog(token(self.name), timeout) if self.lossless else {}

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def pending(self) -> int:
        return self._queued

    @property
    def ack_errors(self) -> int:
        return self._ack_errors

    def close(self) -> None:
        """Stop receiving. Unacknowledged messages are redelivered to the next subscriber."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.bus.call(self._stop(), timeout=10)

    async def _stop(self) -> None:
        for consumer in self._consumers:
            await consumer.stop()
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


async def _ack_all(msgs: list[Any]) -> None:
    # One after the other: an ack only adds to the client's send buffer, and a task each (as
    # gather would make) cost more than the acks themselves at thousands of envelopes a second.
    failed: BaseException | None = None
    for msg in msgs:
        try:
            await msg.ack()
        except nats.errors.MsgAlreadyAckdError:
            pass
        except Exception as error:
            failed = failed or error
    if failed is not None:
        raise failed
