"""Pulling a durable JetStream consumer with plain pull requests, not nats-py's `fetch`.

`fetch` waits for each message with its own `asyncio.wait_for` (a task per message on Python
3.11): with events travelling one per JetStream message (quiet cameras) that tripled the CPU a
sink spends per message (bench/nats_consume.py). Here requests go straight to the consumer's
API subject and messages arrive in a subscription callback:

* One request at a time per consumer, for at most what the subscriber has room for (its
  back-pressure) and `PULL_BATCH` messages; the next goes out when the last is fulfilled or
  ends, or, when there was no room, as soon as there is.
* Each request has its own reply subject: the server's status replies (no messages, expired,
  leadership change …) name the request they end, so a late one never ends its successor.
* A request the server stopped serving without a word (its node or the consumer's leader
  lost, the connection broken) is noticed by silence: the server sends an idle heartbeat every
  `HEARTBEAT_S` while a request waits, so nothing for `2 × HEARTBEAT_S` means it is gone and
  another is sent. A request that was not gone after all may deliver alongside its successor;
  back-pressure then overshoots by at most one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nats.js import api
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)

PULL_BATCH = 256  # messages per request, at most
MAX_BYTES = 16 * 1024 * 1024  # bytes per request, at most (an envelope is ≤ half max_payload)
EXPIRES_S = 5.0
HEARTBEAT_S = 1.0
TICK_S = 0.02  # how often room, silence and reconnects are looked at
STATUS = "Status"
HEARTBEAT = "100"
# Statuses after which asking again at once is right: the request simply ran out (no messages
# waiting, expired). After any other (a leader being elected, a consumer gone) the watch asks
# again on its next tick, rather than in a tight loop.
ENDED_NORMALLY = frozenset({"404", "408"})


class PullConsumer:
    """The messages of durable consumer `durable` on `stream`, handed to `deliver` on the
    connection's event loop; `room()` says how many more messages may be requested now."""

    def __init__(self, nc: Any, js: Any, stream: str, subject: str, durable: str,
                 config: api.ConsumerConfig, deliver: Callable[[Any], Awaitable[None]],
                 room: Callable[[], int]) -> None:
        self.nc = nc
        self.js = js
        self.stream = stream
        self.subject = subject
        self.durable = durable
        self.config = config
        self.deliver = deliver
        self.room = room
        self._next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._inbox = ""
        self._sub: Any = None
        self._tick: asyncio.Task[None] | None = None
        self._requests = 0
        self._live: str | None = None  # reply subject of the request being served
        self._due = 0  # messages the live request may still deliver
        self._heard = 0.0  # loop time of the last word from the server about it
        self._reconnects = 0

    async def start(self) -> None:
        await self._ensure_consumer()
        self._inbox = self.nc.new_inbox()
        # Requests bound what is in flight; the client's own limits must never drop any of it.
        self._sub = await self.nc.subscribe(f"{self._inbox}.*", cb=self._on_message,
                                            pending_msgs_limit=0, pending_bytes_limit=0)
        self._reconnects = self.nc.stats["reconnects"]
        self._tick = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        """Stop pulling; what was delivered and not acknowledged comes again after ack_wait."""
        if self._tick is not None:
            self._tick.cancel()
            with contextlib.suppress(BaseException):
                await self._tick
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _ensure_consumer(self) -> None:
        # Created only when missing, as nats-py's pull_subscribe did (same name, same filter),
        # so consumers made by earlier versions are used as they are.
        try:
            await self.js.consumer_info(self.stream, self.durable)
        except NotFoundError:
            self.config.name = self.config.durable_name = self.durable
            self.config.filter_subject = self.subject
            await self.js.add_consumer(self.stream, config=self.config)

    async def _on_message(self, msg: Any) -> None:
        loop = asyncio.get_running_loop()
        headers = msg.headers
        if headers and not msg.data and STATUS in headers:
            if msg.subject == self._live:
                self._heard = loop.time()
                if headers[STATUS] != HEARTBEAT:
                    log.debug("nats: pull request on %s ended: %s %s", self.stream,
                              headers[STATUS], headers.get(api.Header.DESCRIPTION, ""))
                    self._live = None
                    if headers[STATUS] in ENDED_NORMALLY:
                        await self._request()
            return
        self._heard = loop.time()
        self._due -= 1
        await self.deliver(msg)
        if self._due <= 0:
            self._live = None
            await self._request()

    async def _request(self) -> None:
        """Ask for as many messages as there is room for, unless a request is being served."""
        if self._live is not None or self.nc.is_closed:
            return
        batch = min(PULL_BATCH, self.room())
        if batch < 1:
            return
        self._requests += 1
        reply = f"{self._inbox}.{self._requests}"
        payload = json.dumps({
            "batch": batch, "max_bytes": MAX_BYTES, "expires": int(EXPIRES_S * 1e9),
            "idle_heartbeat": int(HEARTBEAT_S * 1e9),
        }).encode()
        self._live, self._due = reply, batch
        self._heard = asyncio.get_running_loop().time()
        try:
            await self.nc.publish(self._next_subject, payload, reply=reply)
        except Exception as error:  # closed or reconnecting: the watch asks again
            log.debug("nats: pull request on %s not sent: %s", self.stream, error)
            self._live = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK_S)
            reconnects = self.nc.stats["reconnects"]
            if reconnects != self._reconnects:
                self._reconnects = reconnects
                self._live = None  # went with the old connection, or soon will
            elif self._live is not None and loop.time() - self._heard > 2 * HEARTBEAT_S:
                log.debug("nats: pull request on %s went silent; asking again", self.stream)
                self._live = None
            await self._request()
