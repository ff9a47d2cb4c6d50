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

This file is the bus (connection, streams, publishing); the wire format is `nats_codec`, the
subscriptions `nats_subscription`, the errors and their judgement `nats_errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine, Iterable, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

import nats
from nats.js import api
from nats.js.errors import NotFoundError

from vigil.bus.base import Backlog, BusMessage
from vigil.bus.nats_codec import Outgoing, encode, message_id, pack, subject_for, token
from vigil.bus.nats_errors import BusClosedError, PublishTimeoutError, refused_client, transient
from vigil.bus.nats_subscription import NatsSubscription
from vigil.bus.publish import AckedPublisher

T = TypeVar("T")
log = logging.getLogger(__name__)
EVENTS_STREAM = "VIGIL_EVENTS"
SERIES_STREAM = "VIGIL_SERIES"
# Envelopes published before waiting for their acknowledgements: enough to keep JetStream busy
# through an acknowledgement round trip, few enough to bound what a failure sends again.
PUBLISH_WINDOW = 32
RETRY_INITIAL_S = 0.05
RETRY_MAX_S = 2.0


async def _log_error(error: Exception) -> None:
    # Reconnect attempts to a node that is down are expected: not worth a traceback each.
    log.debug("nats: %s", error)


async def _log_disconnect() -> None:
    log.info("nats: disconnected, reconnecting")


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
            if refused_client(error) and not refused.done():
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
        outgoing = Outgoing(subject_for(message, self.prefix), encode(message),
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

    async def _publish_all(self, items: list[Outgoing], window: int = PUBLISH_WINDOW) -> None:
        deadline = self._loop.time() + self.publish_timeout_s
        for start in range(0, len(items), window):
            await self._publish_acked(items[start:start + window], deadline)

    async def _publish_acked(self, items: list[Outgoing], deadline: float) -> None:
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
        self, items: list[Outgoing], deadline: float
    ) -> tuple[list[Outgoing], BaseException | None]:
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
