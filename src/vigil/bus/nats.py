"""The bus on NATS JetStream.

Subjects: `vigil.events.<tenant>.<camera>` for event messages, `vigil.series.<tenant>.<camera>`
for statistics points, in the streams VIGIL_EVENTS and VIGIL_SERIES. `publish` returns once
JetStream has stored the message (replicated when the stream has replicas). A lossless
subscription is a durable pull consumer per stream, shared by every process that subscribes
with the same name (so several sinks split the load); its messages stay unacknowledged until
the subscriber calls `ack` — the event sink does so only after its batch is committed, and
redelivered messages duplicate nothing because store writes are idempotent by event id.
A lossy subscription is a plain core-NATS subscription with a bounded, drop-oldest queue (live
views).

nats-py is asyncio; `NatsBus` runs a private event loop in a daemon thread so that the rest of
Vigil (threads) uses it synchronously.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import re
import threading
from collections.abc import Coroutine, Iterable
from concurrent.futures import Future
from typing import Any, TypeVar

import nats
from nats.js import api
from nats.js.errors import NotFoundError

from vigil.bus.base import BusMessage
from vigil.events import EventMessage
from vigil.series import SeriesMessage

T = TypeVar("T")
log = logging.getLogger(__name__)
EVENTS_STREAM = "VIGIL_EVENTS"
SERIES_STREAM = "VIGIL_SERIES"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def token(value: str) -> str:
    """`value` made a single subject token (dots, wildcards and spaces become '_')."""
    return _UNSAFE.sub("_", value) or "_"


def subject_for(message: BusMessage, prefix: str = "vigil") -> str:
    if isinstance(message, SeriesMessage):
        first = message.points[0] if message.points else None
        tenant = getattr(first, "tenant", "_") if first else "_"
        camera = getattr(first, "camera_id", "_") if first else "_"
        return f"{prefix}.series.{token(tenant)}.{token(camera)}"
    event = message.event
    return f"{prefix}.events.{token(event.tenant)}.{token(event.camera_id)}"


def encode(message: BusMessage) -> bytes:
    return message.model_dump_json().encode()


def decode(subject: str, data: bytes) -> BusMessage:
    if ".series." in subject:
        return SeriesMessage.model_validate_json(data)
    return EventMessage.model_validate_json(data)


def message_id(message: BusMessage) -> str | None:
    """JetStream de-duplicates a publish retried after a lost acknowledgement by this id."""
    if isinstance(message, EventMessage):
        event = message.event
        return f"{event.id}:{message.phase}:{event.updated_ms}:{event.state}"
    return None


class NatsSubscription:
    """A durable pull consumer (lossless) or a core subscription (lossy)."""

    def __init__(self, bus: NatsBus, name: str, lossless: bool, max_pending: int) -> None:
        self.bus = bus
        self.name = name
        self.lossless = lossless
        self.max_pending = max_pending
        self._queue: queue.Queue[tuple[BusMessage, Any]] = queue.Queue()
        self._unacked: dict[int, Any] = {}
        self._dropped = 0
        self._closed = False
        self._tasks: list[asyncio.Task[None]] = []
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
                psub = await self.bus.js.pull_subscribe(
                    subject, durable=token(self.name), stream=stream, config=config
                )
                self._subs.append(psub)
                self._tasks.append(asyncio.create_task(self._pull(psub)))
        else:
            for _, subject in self.bus.streams():
                self._subs.append(await self.bus.nc.subscribe(subject, cb=self._on_core))

    async def _pull(self, psub: Any) -> None:
        while not self._closed:
            room = self.max_pending - self._queue.qsize()
            if room <= 0:
                await asyncio.sleep(0.01)
                continue
            try:
                msgs = await psub.fetch(batch=min(room, 1000), timeout=0.5)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                # Disconnected or no JetStream leader yet: the client reconnects by itself.
                await asyncio.sleep(0.2)
                continue
            for msg in msgs:
                try:
                    message = decode(msg.subject, msg.data)
                except ValueError:
                    await msg.term()  # never decodable: do not redeliver forever
                    continue
                self._queue.put((message, msg))

    async def _on_core(self, msg: Any) -> None:
        message = decode(msg.subject, msg.data)
        while self._queue.qsize() >= self.max_pending:
            try:
                self._queue.get_nowait()
                self._dropped += 1
            except queue.Empty:
                break
        self._queue.put((message, None))

    # -- Subscription protocol (caller's thread) -------------------------------------------

    def get(self, timeout: float | None = None) -> BusMessage | None:
        try:
            message, msg = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if msg is not None:
            self._unacked[id(message)] = msg
        return message

    def ack(self, messages: Iterable[BusMessage]) -> None:
        """Acknowledge `messages` (returned by `get`): JetStream will not deliver them again."""
        msgs = [m for m in (self._unacked.pop(id(message), None) for message in messages) if m]
        if msgs:
            self.bus.call(_ack_all(msgs), timeout=30)

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Stop receiving. Unacknowledged messages are redelivered to the next subscriber."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.bus.call(self._stop(), timeout=10)

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


async def _log_error(error: Exception) -> None:
    # Reconnect attempts to a node that is down are expected: not worth a traceback each.
    log.debug("nats: %s", error)


async def _log_disconnect() -> None:
    log.info("nats: disconnected, reconnecting")


async def _ack_all(msgs: list[Any]) -> None:
    await asyncio.gather(*(msg.ack() for msg in msgs))


class NatsBus:
    """Bus on a NATS server or cluster (`servers`: one URL or several, comma-separated)."""

    def __init__(
        self,
        servers: str | list[str] = "nats://127.0.0.1:4222",
        *,
        prefix: str = "vigil",
        replicas: int = 1,
        ack_wait_s: float = 30.0,
        max_age_s: float = 7 * 86400,
        connect_timeout_s: float = 30.0,
    ) -> None:
        self.servers = servers.split(",") if isinstance(servers, str) else list(servers)
        self.prefix = prefix
        self.replicas = replicas
        self.ack_wait_s = ack_wait_s
        self.max_age_s = max_age_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-bus",
                                        daemon=True)
        self._thread.start()
        self._subscriptions: list[NatsSubscription] = []
        try:
            self.call(self._connect(), timeout=connect_timeout_s + 5)
            self.call(self._ensure_streams(connect_timeout_s), timeout=connect_timeout_s + 5)
        except BaseException:
            self.close()
            raise

    # -- plumbing --------------------------------------------------------------------------

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coroutine` on the bus's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout)

    async def _connect(self) -> None:
        self.nc = await nats.connect(
            servers=self.servers, name="vigil", max_reconnect_attempts=-1,
            reconnect_time_wait=0.25, allow_reconnect=True, connect_timeout=5,
            error_cb=_log_error, disconnected_cb=_log_disconnect,
        )
        self.js = self.nc.jetstream(timeout=10)

    def streams(self) -> list[tuple[str, str]]:
        """(stream, subjects) pairs; streams are named after the prefix (VIGIL_EVENTS …)."""
        stem = token(self.prefix).upper()
        return [(f"{stem}_{EVENTS_STREAM.split('_', 1)[1]}", f"{self.prefix}.events.>"),
                (f"{stem}_{SERIES_STREAM.split('_', 1)[1]}", f"{self.prefix}.series.>")]

    async def _ensure_streams(self, timeout: float) -> None:
        # A fresh cluster has no JetStream meta leader for a few seconds: retry until one
        # answers.
        deadline = self._loop.time() + timeout
        for name, subject in self.streams():
            while True:
                try:
                    try:
                        await self.js.stream_info(name)
                    except NotFoundError:
                        await self.js.add_stream(
                            name=name, subjects=[subject], num_replicas=self.replicas,
                            max_age=self.max_age_s, duplicate_window=120.0,
                            storage=api.StorageType.FILE,
                        )
                    break
                except Exception:
                    if self._loop.time() > deadline:
                        raise
                    await asyncio.sleep(0.25)

    # -- Bus protocol ----------------------------------------------------------------------

    def publish(self, message: BusMessage) -> None:
        self.call(self._publish(message), timeout=60)

    async def _publish(self, message: BusMessage) -> None:
        headers = {"Nats-Msg-Id": mid} if (mid := message_id(message)) else None
        while True:
            try:
                await self.js.publish(
                    subject_for(message, self.prefix), encode(message), headers=headers
                )
                return
            except (nats.errors.TimeoutError, nats.errors.NoRespondersError,
                    nats.js.errors.ServiceUnavailableError):
                # Leader election after a node loss: the same Nats-Msg-Id keeps a retry from
                # storing the message twice.
                await asyncio.sleep(0.2)

    def publish_many(self, messages: Iterable[BusMessage], window: int = 4096) -> int:
        """Publish `messages` pipelined (up to `window` unacknowledged); returns once JetStream
        has stored all of them."""
        return self.call(self._publish_many(list(messages), window), timeout=None)

    async def _publish_many(self, messages: list[BusMessage], window: int) -> int:
        # publish_async pipelines without a request/reply round trip per message; anything
        # whose acknowledgement fails is published again (same Nats-Msg-Id: no duplicate).
        for start in range(0, len(messages), window):
            chunk = messages[start:start + window]
            futures = []
            for message in chunk:
                mid = message_id(message)
                futures.append(await self.js.publish_async(
                    subject_for(message, self.prefix), encode(message),
                    headers={"Nats-Msg-Id": mid} if mid else None,
                ))
            results = await asyncio.gather(*futures, return_exceptions=True)
            for message, result in zip(chunk, results, strict=True):
                if isinstance(result, BaseException):
                    await self._publish(message)
        return len(messages)

    def subscribe(
        self, name: str, *, lossless: bool = True, max_pending: int = 10_000
    ) -> NatsSubscription:
        subscription = NatsSubscription(self, name, lossless, max_pending)
        self.call(subscription._start(), timeout=30)
        self._subscriptions.append(subscription)
        return subscription

    def close(self) -> None:
        for subscription in self._subscriptions:
            subscription.close()
        self._subscriptions.clear()
        if self._thread.is_alive():
            nc = getattr(self, "nc", None)
            if nc is not None:
                with contextlib.suppress(Exception):
                    self.call(nc.drain(), timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
