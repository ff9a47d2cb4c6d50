"""Event search (JSON pages or a CSV export), single events and their snapshots."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from fastapi.responses import StreamingResponse

from vigil.api.access import tenant_scope, visible
from vigil.api.context import Context
from vigil.api.csv_export import COLUMNS, event_row, render
from vigil.api.errors import error_responses
from vigil.api.json_body import page_response
from vigil.api.params import EVENT_ID_PATTERN, split_values, time_range
from vigil.api.schemas import EventPageOut
from vigil.domain.events import Event, EventState
from vigil.domain.frames import now_ms
from vigil.store.media import InvalidMediaKey
from vigil.store.query import MAX_LIMIT, EventQuery
from vigil.store.store import EventStore

CSV_MAX_ROWS = 100_000
EventId = Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="Event id (UUIDv7)")]
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
Values = Annotated[list[str] | None, Query()]


def csv_lines(store: EventStore, query: EventQuery) -> Iterator[str]:
    """The header, then every matching event page by page, up to CSV_MAX_ROWS rows. Runs in a
    worker thread as the client reads, so a large export never sits in memory at once."""
    yield render([], header=COLUMNS)
    query = replace(query, limit=MAX_LIMIT)
    sent = 0
    while sent < CSV_MAX_ROWS:
        page = store.query_events(query)
        items = page.items[: CSV_MAX_ROWS - sent]
        yield render(event_row(event) for event in items)
        sent += len(items)
        if page.next_cursor is None:
            return
        query = replace(query, cursor=page.next_cursor)


async def event_filters(
    tenants: Scope,
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
    camera: Values = None,
    class_: Annotated[list[str] | None, Query(alias="class")] = None,
    module: Annotated[str | None, Query(max_length=64)] = None,
    type_: Annotated[str | None, Query(alias="type", max_length=64)] = None,
    zone: Annotated[str | None, Query(max_length=128)] = None,
    line: Annotated[str | None, Query(max_length=128)] = None,
    state: EventState | None = None,
) -> EventQuery:
    """The event filters of the query string in the caller's scope, shared by the event
    search and the event count so that both always mean the same events. async: parsing
    only, so no thread-pool hand-off."""
    start_ms, end_ms = time_range(start, end, default_span_ms=None, now_ms=now_ms())
    return EventQuery(
        tenants=tenants,
        start_ms=start_ms,
        end_ms=end_ms,
        camera_ids=split_values(camera, "camera"),
        class_names=split_values(class_, "class"),
        module=module or None,
        type=type_ or None,
        zone=zone or None,
        line=line or None,
        state=state,
    )


router = APIRouter(prefix="/api/events", tags=["events"])


@router.get(
    "",
    summary="Search events, newest first",
    description=(
        "Filters combine with AND; `camera` and `class` accept several values (repeated or "
        "comma-separated). `start`/`end` bound the event's start time: start <= t < end, "
        "ISO 8601 ('Z' or an offset; none means UTC). Pages are keyset-paginated: pass "
        "`next_cursor` back as `cursor`. `format=csv` streams every match (up to "
        f"{CSV_MAX_ROWS} rows, from `cursor` if given) as text/csv and ignores `limit`."
    ),
    response_model=EventPageOut,
    responses={
        200: {"content": {"text/csv": {}}, "description": "A page of events, or CSV"},
        **error_responses(422),
    },
)
def search_events(
    ctx: Context,
    filters: Annotated[EventQuery, Depends(event_filters)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    query = replace(filters, limit=limit, cursor=cursor or None)
    if format == "csv":
        return StreamingResponse(
            csv_lines(ctx.store, query),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="vigil-events.csv"'},
        )
    return page_response(ctx.store.query_event_json(query))


@router.get(
    "/{event_id}",
    summary="One event",
    response_model=Event,
    responses=error_responses(404, 422),
)
def get_event(ctx: Context, event_id: EventId, tenants: Scope) -> Event:
    event = ctx.store.get_event(event_id, tenants)
    if event is None:
        raise HTTPException(404, f"no event with id {event_id!r}")
    return event


@router.get(
    "/{event_id}/snapshot.jpg",
    summary="The event's stored snapshot (faces blurred before it was stored)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **error_responses(404, 422)},
)
def get_snapshot(ctx: Context, event_id: EventId, tenants: Scope) -> Response:
    event = ctx.store.get_event(event_id, tenants)
    if event is None:
        raise HTTPException(404, f"no event with id {event_id!r}")
    if event.snapshot is None:
        raise HTTPException(404, f"event {event_id!r} has no snapshot")
    # Media of a tenant lives under its own prefix; a key naming another is never read.
    if not visible(event.tenant, tenants, event.camera_id, "media") or (
        not event.snapshot.startswith(f"{event.tenant}/")
    ):
        raise HTTPException(404, f"the snapshot of event {event_id!r} is no longer stored")
    try:
        data = ctx.media.get(event.snapshot)
    except InvalidMediaKey:
        data = None
    if data is None:
        raise HTTPException(404, f"the snapshot of event {event_id!r} is no longer stored")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
