"""The fan-out's previous write path, kept only so that `vigil bench fanout` can measure the
current one against it in the same run: the same hub, keys and buffers, but each connection
a task that waits for its subscriber to be woken and writes through Starlette's
StreamingResponse (one generator step, one task wake-up and one `send` per delivery)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from vigil.api.access import tenant_scope
from vigil.api.params import split_values
from vigil.api.routes_stream import fanout_hub, holder
from vigil.fanout import FanoutHub, StreamKey, Subscriber
from vigil.fanout.subscriber import closed_message

router = APIRouter()


class _SubscriberResponse(StreamingResponse):
    def __init__(self, content: AsyncIterator[str], leave: Callable[[], None]) -> None:
        super().__init__(
            content,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self._leave = leave

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._leave()


async def _messages(subscriber: Subscriber) -> AsyncIterator[str]:
    yield ": connected\n\n"
    while True:
        await subscriber.wait()
        chunk = subscriber.drain()
        if chunk:
            yield chunk
        if subscriber.closed:
            if subscriber.close_reason:
                yield closed_message(subscriber.close_reason)
            return


@router.get("/streaming/stream")
async def stream_events(
    request: Request,
    hub: Annotated[FanoutHub, Depends(fanout_hub)],
    tenants: Annotated[Collection[str] | None, Depends(tenant_scope)],
    camera: Annotated[list[str] | None, Query()] = None,
) -> StreamingResponse:
    key = StreamKey.build(tenants, split_values(camera, "camera"), None)
    user, tenant, credential, grant = holder(getattr(request.state, "principal", None))
    subscriber = await hub.join(key, user=user, tenant=tenant, credential=credential, grant=grant)
    return _SubscriberResponse(_messages(subscriber), lambda: hub.leave(subscriber))
