"""Writing a subscriber's messages to its connection from the hub, without a task per write.

The hub calls `SseWriter.write` right after it buffered a batch of events, on the event loop.
An ASGI `send` of a body chunk (uvicorn's, through the plain ASGI middlewares) only awaits
anything when the socket's buffer is full, so the writer runs the `send` coroutine by hand:
almost always it finishes at once and the delivery cost one function call chain and one
`write` system call, instead of waking a per-connection task that resumes a generator inside
a StreamingResponse. When it does suspend (the client does not read), the rest of that one
write runs in a task, the writer is `busy`, and the subscriber's messages queue in its bounded
buffer (dropping into a `missed` notice if it stays behind) until the write completes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from starlette.types import Send

log = logging.getLogger(__name__)
_UNSTARTED = object()


class _Rest:
    """The remainder of a coroutine that was stepped by hand and suspended on `yielded`, as
    an awaitable: a task awaiting it resumes the coroutine where it stopped."""

    def __init__(self, coro: Coroutine[Any, Any, None], yielded: Any) -> None:
        self._coro = coro
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, None]:
        yielded = self._yielded
        while True:
            try:
                value = yield yielded
            except BaseException as error:  # cancellation reaches the coroutine too
                try:
                    yielded = self._coro.throw(error)
                except StopIteration:
                    return
                continue
            try:
                yielded = self._coro.send(value)
            except StopIteration:
                return


class SseWriter:
    """One connection's body writer. `write` returns at once; `busy` while a write waits for
    the client to read (`on_ready` is called when it is done, to send what queued meanwhile)."""

    __slots__ = ("_send", "_task", "busy", "finished", "on_ready")

    def __init__(self, send: Send) -> None:
        self._send = send
        self._task: asyncio.Task[None] | None = None
        self.busy = False
        self.finished = False  # the last chunk (more_body False) was sent, or the send failed
        self.on_ready: Callable[[], None] | None = None

    def write(self, text: str, *, last: bool = False) -> None:
        if self.finished:
            return
        if last:
            self.finished = True
        sent = self._send(
            {"type": "http.response.body", "body": text.encode(), "more_body": not last}
        )
        if not asyncio.iscoroutine(sent):  # ASGI only promises an awaitable: await it in a task
            self.busy = True
            self._task = asyncio.get_running_loop().create_task(self._finish(sent, _UNSTARTED))
            return
        try:
            yielded = sent.send(None)
        except StopIteration:
            return
        except Exception as error:  # the connection broke: its handler sees the disconnect
            log.debug("fanout: write failed: %s", error)
            self.finished = True
            return
        self.busy = True
        self._task = asyncio.get_running_loop().create_task(self._finish(sent, yielded))

    async def _finish(self, sent: Awaitable[None], yielded: Any) -> None:
        """Complete a write: a coroutine that suspended after its first step on `yielded`, or
        an awaitable not started (`_UNSTARTED`)."""
        try:
            if isinstance(sent, Coroutine) and yielded is not _UNSTARTED:
                await _Rest(sent, yielded)
            else:
                await sent
        except Exception as error:
            log.debug("fanout: write failed: %s", error)
            self.finished = True
        finally:
            self.busy = False
            self._task = None
        if self.on_ready is not None and not self.finished:
            self.on_ready()

    def cancel(self) -> None:
        """The connection is gone: stop a write still waiting for it."""
        self.finished = True
        if self._task is not None:
            self._task.cancel()
