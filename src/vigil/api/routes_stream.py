"""Live events as Server-Sent Events, through the node's fan-out (`vigil.fanout`).

The connection only drains its subscriber's buffer: matching, encoding and keep-alives are
done once per event (or per tick) by the hub for every subscriber together. A subscriber that
falls `BUFFER` messages behind is sent `event: missed` with the time to resynchronise from
(GET /api/events?start=…); one whose session or token is revoked is sent `event: closed` and
the stream ends. Too many streams for one user or tenant: 429 with Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from vigil.api.access import tenant_scope
from vigil.api.context import Context
from vigil.api.errors import error_responses
from vigil.api.params import split_values
from vigil.auth.principal import Principal
from vigil.config import SecurityConfig
from vigil.fanout import FanoutHub, StreamKey, StreamLimitError, Subscriber
from vigil.fanout.limits import StreamLimits
from vigil.fanout.revocation import Credential, Grant, grant_of, store_check
from vigil.fanout.writer import SseWriter

CONNECTED = b": connected\n\n"
router = APIRouter(prefix="/api/events", tags=["events"])


async def fanout_hub(request: Request, ctx: Context) -> FanoutHub:
    """The app's one hub, made on first use (on the server's event loop, which it runs on)."""
    hub: FanoutHub | None = getattr(request.app.state, "fanout", None)
    if hub is None:
        config = getattr(request.app.state, "config", None)
        security = config.security if config is not None else SecurityConfig()
        auth = getattr(request.app.state, "auth", None)
        hub = FanoutHub(
            ctx.bus,
            keepalive_s=lambda: ctx.sse_keepalive_s,
            limits=StreamLimits(
                per_user=security.streams_per_user, per_tenant=security.streams_per_tenant
            ),
            check=store_check(auth.store.engine) if auth is not None else None,
        )
        request.app.state.fanout = hub
    return hub


def holder(
    principal: Principal | None,
) -> tuple[str, str | None, Credential | None, Grant | None]:
    """Whom a stream counts against (user, tenant), the credential re-checked for it, and what
    the user could see when it connected."""
    if principal is None:
        return "anonymous", None, None, None
    credential: Credential | None = None
    if principal.token_id:
        credential = ("token", principal.token_id)
    elif principal.session_id:
        credential = ("session", principal.session_id)
    role = principal.role.value if principal.role is not None else None
    grant = grant_of(role, principal.tenant, principal.cameras)
    return principal.username, principal.tenant, credential, grant


class _LiveResponse(Response):
    """The stream as a raw ASGI response: after the head and `: connected` the hub writes the
    subscriber's messages itself (`Subscriber.attach`), so this only waits for the client to
    go away (or for the hub's last write, which completes the response) and then leaves."""

    def __init__(self, subscriber: Subscriber, leave: Callable[[], None]) -> None:
        # The media type is given here, not as a class attribute: OpenAPI would list the
        # route's JSON error responses under it too.
        super().__init__(
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        # No length: the body is chunked until the stream ends.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._subscriber = subscriber
        self._leave = leave

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        writer = SseWriter(send)
        try:
            await send(
                {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
            )
            await send({"type": "http.response.body", "body": CONNECTED, "more_body": True})
            self._subscriber.attach(writer)
            while (await receive())["type"] != "http.disconnect":
                pass
        finally:
            writer.cancel()
            self._leave()


@router.get(
    "/stream",
    summary="Live events as Server-Sent Events",
    description=(
        "Each message is `event: start|update|end` with `data:` the event JSON. A comment line "
        "is sent every 15 s (`sse_keepalive_s`) to keep idle connections open. A client that "
        'falls behind gets `event: missed` with `data: {"missed": n, "since": ISO time}`: '
        "fetch `GET /api/events?start=<since>` to resynchronise. `event: closed` ends the "
        "stream (`reason`: `revoked` when the session or token was revoked, `changed` when the "
        "user's role or camera groups changed: reconnect). Too many streams "
        "open for the user or tenant: 429 with Retry-After."
    ),
    response_class=_LiveResponse,
    status_code=200,  # _LiveResponse takes no status, so OpenAPI cannot read it from there
    responses={200: {"content": {"text/event-stream": {}}}, **error_responses(422, 429)},
)
async def stream_events(
    request: Request,
    hub: Annotated[FanoutHub, Depends(fanout_hub)],
    tenants: Annotated[Collection[str] | None, Depends(tenant_scope)],
    camera: Annotated[list[str] | None, Query(description="Only these camera ids")] = None,
    type_: Annotated[
        list[str] | None, Query(alias="type", description="Only these event types")
    ] = None,
) -> Response:
    key = StreamKey.build(tenants, split_values(camera, "camera"), split_values(type_, "type"))
    user, tenant, credential, grant = holder(getattr(request.state, "principal", None))
    try:
        subscriber = await hub.join(
            key, user=user, tenant=tenant, credential=credential, grant=grant
        )
    except StreamLimitError as error:
        raise HTTPException(
            429, error.detail, headers={"Retry-After": str(error.retry_after_s)}
        ) from None
    return _LiveResponse(subscriber, lambda: hub.leave(subscriber))
