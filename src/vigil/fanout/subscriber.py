"""One connected subscriber: a bounded buffer of encoded SSE messages, and what it missed.

The hub pushes into the buffer on its event loop. A subscriber with an attached `SseWriter`
(a connection) is then flushed by the hub itself, once per batch of events, straight to the
socket; one without (a caller that reads by itself) is woken and drains the buffer. A
subscriber whose buffer is full is not waited for: its buffer is emptied, the loss counted,
and the next thing it is sent is a `missed` message naming where to resume from the store.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

from vigil.fanout.key import StreamKey
from vigil.fanout.revocation import Grant
from vigil.fanout.writer import SseWriter

KEEP_ALIVE = ": keep-alive\n\n"


class Subscriber:
    __slots__ = (
        "_buffer",
        "_buffered_since_ms",
        "_heartbeat",
        "_wake",
        "capacity",
        "close_reason",
        "closed",
        "credential",
        "grant",
        "key",
        "last_sent",
        "missed",
        "missed_since_ms",
        "tenant",
        "user",
        "writer",
    )

    def __init__(
        self,
        key: StreamKey,
        *,
        user: str,
        tenant: str | None,
        credential: tuple[str, str] | None,
        grant: Grant | None = None,
        capacity: int,
    ) -> None:
        self.key = key
        self.user = user
        self.tenant = tenant
        # ("session" | "token", id): what the hub re-checks for revocation; None for callers
        # that authenticate otherwise (internal principals).
        self.credential = credential
        self.grant = grant  # what the user could see at connect (revocation.Grant)
        self.capacity = capacity
        self._buffer: deque[str] = deque()
        self._wake = asyncio.Event()
        self.missed = 0
        self.missed_since_ms: int | None = None
        self.last_sent = time.monotonic()
        self.closed = False
        self.close_reason: str | None = None
        self._heartbeat = False
        self._buffered_since_ms: int | None = None  # the earliest event start in the buffer
        self.writer: SseWriter | None = None

    # -- hub side --------------------------------------------------------------------------

    def push(self, text: str, start_ms: int) -> int:
        """Buffer one message; returns how many unread messages were dropped to make room
        (0 unless the subscriber fell a whole buffer behind)."""
        buffer = self._buffer
        dropped = 0
        if len(buffer) >= self.capacity:
            # Too slow: what it has not read is dropped at once (not one by one) and replaced
            # by one notice; it resynchronises from the store, which has every event.
            dropped = len(buffer)
            self.missed += dropped
            buffer.clear()
            dropped_since = self._buffered_since_ms
            if dropped_since is not None and (
                self.missed_since_ms is None or dropped_since < self.missed_since_ms
            ):
                self.missed_since_ms = dropped_since
            self._buffered_since_ms = None
        buffer.append(text)
        if self._buffered_since_ms is None or start_ms < self._buffered_since_ms:
            self._buffered_since_ms = start_ms
        if self.writer is None:
            self._wake.set()  # a writer is flushed by the hub after the whole batch instead
        return dropped

    def heartbeat(self, now: float, interval_s: float) -> None:
        if now - self.last_sent >= interval_s and not self._buffer:
            self._heartbeat = True
            self.flush()

    def close(self, reason: str | None = None) -> None:
        self.closed = True
        self.close_reason = reason
        self.flush()

    # -- connection side -------------------------------------------------------------------

    def attach(self, writer: SseWriter) -> None:
        """From now on the hub writes this subscriber's messages to `writer` itself."""
        self.writer = writer
        writer.on_ready = self.flush
        self.flush()

    def flush(self) -> None:
        """Send what is buffered (and the closing message once closed) in one write; without a
        writer, wake whoever drains. A busy writer is flushed again when its write is done."""
        writer = self.writer
        if writer is None:
            self._wake.set()
            return
        if writer.busy or writer.finished:
            return
        chunk = self.drain()
        if self.closed:
            if self.close_reason:
                chunk += closed_message(self.close_reason)
            writer.write(chunk, last=True)
        elif chunk:
            writer.write(chunk)

    # -- writer side -----------------------------------------------------------------------

    async def wait(self) -> None:
        await self._wake.wait()
        self._wake.clear()

    def drain(self) -> str:
        """Everything to send now, as one chunk: one write per wake-up, not per message."""
        parts: list[str] = []
        if self.missed:
            parts.append(missed_message(self.missed, self.missed_since_ms))
            self.missed, self.missed_since_ms = 0, None
        if self._buffer:
            parts.extend(self._buffer)
            self._buffer.clear()
            self._buffered_since_ms = None
        elif self._heartbeat and not parts:
            parts.append(KEEP_ALIVE)
        self._heartbeat = False
        if parts:
            self.last_sent = time.monotonic()
        return "".join(parts)

    @property
    def pending(self) -> int:
        return len(self._buffer)


def missed_message(count: int, since_ms: int | None) -> str:
    """`event: missed`: how many messages were dropped, and the cursor to resynchronise from
    (GET /api/events?start=<since>, the events that started at or after it)."""
    data: dict[str, object] = {"missed": count, "since_ms": since_ms}
    if since_ms is not None:
        data["since"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since_ms / 1000)) + (
            f".{since_ms % 1000:03d}Z"
        )
    return f"event: missed\ndata: {json.dumps(data)}\n\n"


def closed_message(reason: str) -> str:
    return f"event: closed\ndata: {json.dumps({'reason': reason})}\n\n"
