"""Live events as Server-Sent Events, one lossy bus subscription per client.

Lossy, because a browser tab that stops reading must never slow the pipeline: when a client
falls 1000 messages behind, its oldest messages are dropped.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Collection
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from vigil.api.access import tenant_scope, visible
from vigil.api.context import AppContext
from vigil.api.errors import error_responses
from vigil.api.params import split_values
from vigil.domain.events import EventMessage

MAX_PENDING = 1000
# The bus is polled without blocking so no worker thread is held per client; this bounds the
# delivery delay.
POLL_S = 0.05


def sse_message(message: EventMessage) -> str:
    return f"event: {message.phase.value}\ndata: {message.event.model_dump_json()}\n\n"


def stream_router(ctx: AppContext) -> APIRouter:
    router = APIRouter(prefix="/api/events", tags=["events"])

    @router.get(
        "/stream",
        summary="Live events as Server-Sent Events",
        description=(
            "Each message is `event: start|update|end` with `data:` the event JSON. A comment "
            f"line is sent every {ctx.sse_keepalive_s:g} s to keep idle connections open."
        ),
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}, **error_responses(422)},
    )
    async def stream_events(
        request: Request,
        tenants: Annotated[Collection[str] | None, Depends(tenant_scope)],
        camera: Annotated[list[str] | None, Query(description="Only these camera ids")] = None,
    ) -> StreamingResponse:
        cameras = split_values(camera, "camera")

        async def messages() -> AsyncIterator[str]:
            # Subscribed inside the body so that a response that never starts leaks nothing.
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
                        continue  # statistics points are not live events
                    event = message.event
                    if (cameras is None or event.camera_id in cameras) and visible(
                        event.tenant, tenants, event.camera_id, "events"
                    ):
                        yield sse_message(message)
                        last_sent = time.monotonic()
            finally:
                subscription.close()

        return StreamingResponse(
            messages(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return router
