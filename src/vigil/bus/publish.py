"""Publishing to JetStream with a future per acknowledgement, without nats-py's `publish_async`.

`publish_async` waits for a slot on a semaphore through `asyncio.wait_for` (a task per message
on Python 3.11), draws random bytes for each reply subject and builds a `PubAck` object per
acknowledgement: most of the publisher's CPU when envelopes carry few messages. Here a reply
subject is a counter under one inbox, and an acknowledgement only settles its future. How
many publishes are in flight is the caller's business (the bus publishes in windows).
"""

from __future__ import annotations

import asyncio
from typing import Any

from nats.js.errors import APIError, NoStreamResponseError

from vigil.domain.event_rows import loads

STATUS = "Status"
NO_RESPONDERS = "503"


class AckedPublisher:
    """Publishes on `nc` and settles each publish's future with JetStream's answer: None once
    stored, or the error nats-py would have raised."""

    def __init__(self, nc: Any) -> None:
        self.nc = nc
        self._inbox = ""
        self._sent = 0
        self._waiting: dict[str, asyncio.Future[None]] = {}

    async def start(self) -> None:
        self._inbox = self.nc.new_inbox()
        await self.nc.subscribe(f"{self._inbox}.*", cb=self._on_reply)

    async def publish(self, subject: str, payload: bytes,
                      headers: dict[str, str] | None) -> asyncio.Future[None]:
        self._sent += 1
        reply = f"{self._inbox}.{self._sent}"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[reply] = future
        # A future given up on (cancelled by the caller's timeout) is forgotten too.
        future.add_done_callback(lambda _: self._waiting.pop(reply, None))
        try:
            await self.nc.publish(subject, payload, reply=reply, headers=headers)
        except BaseException:
            future.cancel()
            raise
        return future

    async def _on_reply(self, msg: Any) -> None:
        future = self._waiting.pop(msg.subject, None)
        if future is None or future.done():
            return
        if msg.headers and msg.headers.get(STATUS) == NO_RESPONDERS:
            future.set_exception(NoStreamResponseError())  # no stream leader just now
            return
        try:
            answer = loads(msg.data)
        except ValueError as unreadable:
            future.set_exception(APIError(description=f"unreadable answer: {unreadable}"))
            return
        refused = answer.get("error") if isinstance(answer, dict) else None
        if refused is None:
            future.set_result(None)
            return
        try:
            APIError.from_error(refused)  # raises the error class of the code (400, 503 …)
        except APIError as refusal:
            future.set_exception(refusal)
        except (KeyError, TypeError) as unreadable:
            future.set_exception(APIError(description=f"unreadable error {refused!r}: "
                                                      f"{unreadable}"))
