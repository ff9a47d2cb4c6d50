"""The baseline: live events as the API served them before the fan-out, one lossy bus
subscription per connection, each connection filtering every event itself. Kept only so that
`vigil bench fanout` measures both in the same run."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Collection
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from vigil.api.access import tenant_scope, visible
from vigil.api.context import Context
from vigil.api.params import split_values
from vigil.domain.events import EventMessage
from vigil.fanout.hub import sse_message

MAX_PENDING = 1000
POLL_S = 0.05

router = APIRouter()


@router.get("/baseline/stream")
async def stream_events(
    request: Request,
    ctx: Context,
    tenants: Annotated[Collection[str] | None, Depends(tenant_scope)],
    camera: Annotated[list[str] | None, Query()] = None,
) -> StreamingResponse:
    cameras = split_values(camera, "camera")

    async def messages() -> AsyncIterator[str]:
        subscription = ctx.bus.subscribe(
            f"sse-{uuid.uuid4().hex[:8]}", lossless=False, max_pending=MAX_PENDING
        )
        try:
            yield ": connected\n\n"
            last_sent = time.monotonic()
            while True:
                message = subscription.get(timeout=0)
                if message is None:
                    if await request.is_disconnected():
                        return
                    if time.monotonic() - last_sent >= ctx.sse_keepalive_s:
                        yield ": keep-alive\n\n"
                        last_sent = time.monotonic()
                    await asyncio.sleep(POLL_S)
                    continue
                if not isinstance(message, EventMessage):
                    continue
                event = message.event
                if (cameras is None or event.camera_id in cameras) and visible(
                    event.tenant, tenants, event.camera_id, "events"
                ):
                    yield sse_message(message)
                    last_sent = time.monotonic()
        finally:
            subscription.close()

    return StreamingResponse(messages(), media_type="text/event-stream")
