"""The bus on NATS JetStream.

Subjects: `vigil.events.<tenant>.<camera>` for event messages, `vigil.series.<tenant>.<camera>`
for statistics points, in the streams VIGIL_EVENTS and VIGIL_SERIES. `publish` returns once
JetStream has stored the message (replicated when the stream has replicas). A lossless
subscription is a durable pull consumer per stream (pulled by `vigil.bus.pull`), shared by
every process that subscribes with the same name (so several sinks split the load); its
messages stay unacknowledged until the subscriber calls `ack` — the event sink does so only
after its batch is committed, and redelivered messages duplicate nothing because store writes
are idempotent by event id.
A lossy subscription is a plain core-NATS subscription with a bounded, drop-oldest queue (live
views).

`publish_many` carries many messages of one subject in one JetStream message, a batch envelope
(marked by the `Vigil-Batch` header): per-message overheads (a JetStream write, an
acknowledgement, a delivery, a consumer ack) are paid once per envelope. A batch never mixes
subjects, so subject filters keep working; subscribers see the messages one by one either way.
An envelope of events holds them as rows of the events table (`vigil.domain.event_rows`, with the
column names, so a reader maps columns by name): the store sink subscribes with
`subscribe_rows` and writes them as they are, without a pydantic model per message; other
subscribers get `EventMessage`s, validated.

Publishing never waits without bound: acknowledgements that do not come (a stream leader killed
mid-publish) are waited for `ack_timeout_s`, then the message is published again — with the same
Nats-Msg-Id, so JetStream stores it once — with backoff, through every transient JetStream
error, until `publish_timeout_s` has passed; then `PublishTimeoutError` says what never got
through.

nats-py is asyncio; `NatsBus` runs a private event loop in a daemon thread so that the rest of
Vigil (threads) uses it synchronously.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import hashlib
import logging
import queue
import re
import ssl
import threading
from collections.abc import Coroutine, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
from nats.js import api
from nats.js.errors import BadRequestError, NotFoundError
from pydantic import TypeAdapter

from vigil.bus.base import Backlog, BusMessage, Delivered
from vigil.bus.publish import AckedPublisher
from vigil.bus.pull import PullConsumer
from vigil.domain.event_rows import (
    COLUMNS,
    EventRow,
    Row,
    copy_row,
    dumps_bytes,
    invalid_rows,
    loads,
)
from vigil.domain.events import EventMessage
from vigil.domain.series_points import SeriesMessage

T = TypeVar("T")
log = logging.getLogger(__name__)
EVENTS_STREAM = "VIGIL_EVENTS"
SERIES_STREAM = "VIGIL_SERIES"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# Envelopes published before waiting for their acknowledgements: enough to keep JetStream busy
# through an acknowledgement round trip, few enough to bound what a failure sends again.
PUBLISH_WINDOW = 32
RETRY_INITIAL_S = 0.05
RETRY_MAX_S = 2.0
# Messages per batch envelope, at most (and at most half the server's max_payload in bytes).
ENVELOPE_MAX = 500
BATCH_HEADER = "Vigil-Batch"
_SERIES_BATCH = TypeAdapter(list[SeriesMessage])


class PublishTimeoutError(TimeoutError):
    """JetStream did not acknowledge a publish within the bus's `publish_timeout_s`."""


class BusClosedError(ConnectionError):
    """The bus was closed; nothing more goes through it."""


@functools.lru_cache(maxsize=4096)  # tenants and cameras repeat: one regex per name, not message
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


def message_id(message: BusMessage) -> str | None:
    """JetStream de-duplicates a publish retried after a lost acknowledgement by this id."""
    if isinstance(message, EventMessage):
        event = message.event
        return f"{event.id}:{message.phase}:{event.updated_ms}:{event.state}"
    return None


def encode(message: BusMessage) -> bytes:
    return message.model_dump_json().encode()


def decode(subject: str, data: bytes, headers: dict[str, str] | None = None, *,
           rows: bool = False) -> list[Delivered]:
    """The messages one JetStream message carries: one, or a batch envelope's. With `rows`,
    an envelope's events come as `EventRow`s (for the store sink: checked against the event
    schema, but no model built). An event the schema refuses is logged and left out; the rest
    of its envelope is delivered."""
    series = ".series." in subject
    if headers and BATCH_HEADER in headers:
        if series:
            return list(_SERIES_BATCH.validate_json(data))
        try:
            batch = loads(data)
            phases, event_rows = batch["phases"], _local_rows(batch["columns"], batch["rows"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not an event batch: {error}") from error
        delivered = [EventRow(phase, row) for phase, row in zip(phases, event_rows, strict=True)]
        for index, problem in sorted(invalid_rows(event_rows).items(), reverse=True):
            log.error("nats: invalid event %s on %s dropped: %s; row: %r",
                      delivered[index].id, subject, problem, delivered[index].row)
            del delivered[index]
        if rows:
            return list(delivered)
        return [event.message() for event in delivered]
    if series:
        return [SeriesMessage.model_validate_json(data)]
    return [EventMessage.model_validate_json(data)]


def _local_rows(columns: list[str], rows: list[Row]) -> list[Row]:
    """`rows` in this version's column order (a publisher of another version may differ)."""
    if tuple(columns) == COLUMNS:
        if any(len(row) != len(COLUMNS) for row in rows):
            raise ValueError("an event row does not match its columns")
        return rows
    where = {name: i for i, name in enumerate(columns)}
    picks = [where.get(name) for name in COLUMNS]
    return [tuple(None if i is None else row[i] for i in picks) for row in rows]


def batch_id(subject: str, payload: bytes) -> str:
    """The Nats-Msg-Id of an envelope: a digest of what it carries (the same messages always
    pack into the same bytes), so that publishing it again is recognised as a duplicate."""
    digest = hashlib.blake2b(payload, digest_size=16, key=subject.encode()[:64])
    return "batch:" + digest.hexdigest()


@dataclass(slots=True)
class _Outgoing:
    subject: str
    payload: bytes
    headers: dict[str, str] | None
    count: int  # bus messages it carries


def pack(messages: Iterable[BusMessage], prefix: str, max_bytes: int) -> list[_Outgoing]:
    """`messages` in batch envelopes: grouped by subject (order kept within each), at most
    ENVELOPE_MAX messages and `max_bytes` each."""
    by_subject: dict[str, list[BusMessage]] = {}
    for message in messages:
        by_subject.setdefault(subject_for(message, prefix), []).append(message)
    out: list[_Outgoing] = []
    for subject, group in by_subject.items():
        for start in range(0, len(group), ENVELOPE_MAX):
            _pack_into(out, subject, group[start:start + ENVELOPE_MAX], max_bytes)
    return out


def _pack_into(out: list[_Outgoing], subject: str, chunk: list[BusMessage],
               max_bytes: int) -> None:
    if ".series." in subject:
        payload = _SERIES_BATCH.dump_json(
            [message for message in chunk if isinstance(message, SeriesMessage)]
        )
    else:
        events = [message for message in chunk if isinstance(message, EventMessage)]
        payload = dumps_bytes({
            "columns": COLUMNS,
            "phases": [message.phase.value for message in events],
            "rows": [copy_row(message.event) for message in events],
        })
    if len(payload) > max_bytes and len(chunk) > 1:
        half = len(chunk) // 2
        _pack_into(out, subject, chunk[:half], max_bytes)
        _pack_into(out, subject, chunk[half:], max_bytes)
        return
    headers = {BATCH_HEADER: str(len(chunk)), "Nats-Msg-Id": batch_id(subject, payload)}
    out.append(_Outgoing(subject, payload, headers, len(chunk)))


def transient(error: BaseException) -> bool:
    """Whether publishing the same message again may succeed. During a leader election a
    publish fails in many ways (a timeout, 503 no responders or "no response from stream", a 500,
    an API error without a code, a reconnect in progress); only a refusal of the message itself
    or a connection this bus closed is final."""
    if isinstance(error, (nats.errors.ConnectionClosedError, nats.errors.MaxPayloadError,
                          nats.errors.BadSubjectError, BadRequestError)):
        return False
    return isinstance(error, (nats.errors.Error, asyncio.TimeoutError, OSError))


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


def _refusal(error: BaseException) -> bool:
    """Whether a server refused this client itself (credentials, certificates), not just was
    unreachable."""
    return isinstance(error, ssl.SSLError) or (
        isinstance(error, nats.errors.Error) and "authorization" in str(error).lower()
    )


async def _log_error(error: Exception) -> None:
    # Reconnect attempts to a node that is down are expected: not worth a traceback each.
    log.debug("nats: %s", error)


async def _log_disconnect() -> None:
    log.info("nats: disconnected, reconnecting")


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
        ack_timeout_s: float = 5.0,
        publish_timeout_s: float = 60.0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.servers = servers.split(",") if isinstance(servers, str) else list(servers)
        # Credentials and TLS (`vigil.bus.credentials`), passed to nats.connect as they are.
        self.options = dict(options or {})
        self.prefix = prefix
        self.replicas = replicas
        self.ack_wait_s = ack_wait_s
        self.max_age_s = max_age_s
        # How long a publish waits for JetStream's acknowledgement before sending again, and
        # how long it keeps trying in all before giving up with PublishTimeoutError.
        self.ack_timeout_s = ack_timeout_s
        self.publish_timeout_s = publish_timeout_s
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
        if not self._thread.is_alive():
            # Closed: say so now, rather than time out on a loop that will never run it.
            coroutine.close()
            raise BusClosedError(f"the NATS bus to {','.join(self.servers)} is closed")
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout)

    async def _connect(self) -> None:
        # A server that is not up yet is waited for (a cluster starting), but one that refuses
        # this node's credentials or certificate would refuse it forever: say so at once.
        refused: asyncio.Future[BaseException] = self._loop.create_future()

        async def on_error(error: Exception) -> None:
            await _log_error(error)
            if _refusal(error) and not refused.done():
                refused.set_result(error)

        connecting: asyncio.Future[Any] = asyncio.ensure_future(nats.connect(
            servers=self.servers, name="vigil", max_reconnect_attempts=-1,
            reconnect_time_wait=0.25, allow_reconnect=True, connect_timeout=5,
            error_cb=on_error, disconnected_cb=_log_disconnect, **self.options,
        ))
        either: set[asyncio.Future[Any]] = {connecting, refused}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not connecting.done():
            connecting.cancel()
            error = refused.result()
            raise ConnectionRefusedError(
                f"NATS at {','.join(self.servers)} refused this node: {error}; check the bus "
                "settings user, password_file, token_file and tls_ca, tls_cert, tls_key"
            ) from error
        self.nc = connecting.result()
        self.js = self.nc.jetstream(timeout=10)
        self._publisher = AckedPublisher(self.nc)
        await self._publisher.start()

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
        """Publish one message; returns once JetStream has stored it."""
        mid = message_id(message)
        outgoing = _Outgoing(subject_for(message, self.prefix), encode(message),
                             {"Nats-Msg-Id": mid} if mid else None, 1)
        self.call(self._publish_all([outgoing]), timeout=self.publish_timeout_s + 10)

    def publish_many(self, messages: Iterable[BusMessage], window: int = PUBLISH_WINDOW) -> int:
        """Publish `messages` in batch envelopes (one subject each), pipelined up to `window`
        envelopes unacknowledged; returns once JetStream has stored all of them."""
        outgoing = pack(messages, self.prefix, self._max_envelope_bytes())
        self.call(self._publish_all(outgoing, window), timeout=self.publish_timeout_s + 10)
        return sum(item.count for item in outgoing)

    def _max_envelope_bytes(self) -> int:
        # Half the server's limit leaves room for headers and for the occasional big message.
        return max(64 * 1024, int(getattr(self.nc, "max_payload", 1 << 20)) // 2)

    async def _publish_all(self, items: list[_Outgoing], window: int = PUBLISH_WINDOW) -> None:
        deadline = self._loop.time() + self.publish_timeout_s
        for start in range(0, len(items), window):
            await self._publish_acked(items[start:start + window], deadline)

    async def _publish_acked(self, items: list[_Outgoing], deadline: float) -> None:
        """Publish `items` until JetStream acknowledged each (or `deadline`): pipelined, then
        whatever failed or went unanswered again, with backoff."""
        pending = items
        delay = RETRY_INITIAL_S
        while True:
            pending, error = await self._publish_round(pending, deadline)
            if not pending:
                return
            if self._loop.time() + delay >= deadline:
                count = sum(item.count for item in pending)
                raise PublishTimeoutError(
                    f"JetStream did not acknowledge {count} message(s) on "
                    f"{sorted({item.subject for item in pending})[:3]} within "
                    f"{self.publish_timeout_s:g} s (servers {','.join(self.servers)}); "
                    f"last error: {error!r}"
                ) from error
            # A new stream leader is being elected, or the client is reconnecting.
            log.debug("nats: retrying %d publishes in %.2f s: %r", len(pending), delay, error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    async def _publish_round(
        self, items: list[_Outgoing], deadline: float
    ) -> tuple[list[_Outgoing], BaseException | None]:
        """One pipelined attempt: the items not acknowledged, and the last error seen."""
        futures: list[asyncio.Future[Any] | None] = []
        error: BaseException | None = None
        try:
            for item in items:
                try:
                    futures.append(await self._publisher.publish(
                        item.subject, item.payload, item.headers))
                except Exception as failure:
                    if not transient(failure):
                        raise
                    error = failure
                    futures.append(None)
            waiting = [future for future in futures if future is not None]
            if waiting:
                timeout = max(0.0, min(self.ack_timeout_s, deadline - self._loop.time()))
                await asyncio.wait(waiting, timeout=timeout)
            failed = []
            for item, future in zip(items, futures, strict=True):
                if future is None:
                    failed.append(item)
                elif not future.done():
                    # No acknowledgement: lost with a connection or a leader.
                    error = error or TimeoutError(
                        f"no acknowledgement within {self.ack_timeout_s:g} s")
                    failed.append(item)
                elif (refused := future.exception()) is not None:
                    if not transient(refused):
                        raise refused
                    error = refused
                    failed.append(item)
            return failed, error
        finally:
            # What is still unanswered is given up (a publish sent again gets a new future; a
            # late answer to this one is ignored).
            for future in futures:
                if future is not None and not future.done():
                    future.cancel()

    def backlog(self, durable: str, timeout: float = 2.0) -> dict[str, Backlog]:
        """By stream, what durable consumer `durable` has not finished; streams where it does
        not exist (nothing subscribed under that name yet) are left out."""
        return self.call(self._backlog(durable), timeout)

    async def _backlog(self, durable: str) -> dict[str, Backlog]:
        out = {}
        for stream, _ in self.streams():
            try:
                info = await self.js.consumer_info(stream, durable)
            except NotFoundError:
                continue
            out[stream] = Backlog(int(info.num_pending), int(info.num_ack_pending))
        return out

    def subscribe(
        self, name: str, *, lossless: bool = True, max_pending: int = 10_000
    ) -> NatsSubscription:
        return self._subscribe(NatsSubscription(self, name, lossless, max_pending))

    def subscribe_rows(self, name: str, *, max_pending: int = 10_000) -> NatsSubscription:
        """A lossless subscription that delivers enveloped events as `EventRow`s (the store
        sink's); anything else as `subscribe` does."""
        return self._subscribe(NatsSubscription(self, name, True, max_pending, rows=True))

    def _subscribe(self, subscription: NatsSubscription) -> NatsSubscription:
        self.call(subscription._start(), timeout=30)
        self._subscriptions.append(subscription)
        return subscription

    def close(self) -> None:
        for subscription in self._subscriptions:
            subscription.close()
        self._subscriptions.clear()
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self.call(self._shutdown(), timeout=20)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    async def _shutdown(self) -> None:
        nc = getattr(self, "nc", None)
        if nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.drain(), 10)
            if not nc.is_closed:  # the servers are gone: nothing left to drain to
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(nc.close(), 5)
        # Whatever the client left behind ends here, not later on a loop that no longer runs.
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
