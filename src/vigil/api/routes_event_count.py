"""GET /api/event-count: how many events match the Events page's filters, all pages together
(the page itself is fetched 50 at a time)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from vigil.api.access import tenant_scope
from vigil.api.context import Context
from vigil.api.errors import error_responses
from vigil.api.params import split_values, time_range
from vigil.domain.events import EventState
from vigil.domain.frames import now_ms
from vigil.store import events as event_rows
from vigil.store.query import EventQuery

router = APIRouter(tags=["events"])
Values = Annotated[list[str] | None, Query()]


class EventCountOut(BaseModel):
    total: int


@router.get(
    "/api/event-count",
    summary="How many events match (the filters of GET /api/events)",
    response_model=EventCountOut,
    responses=error_responses(422),
)
def event_count(
    ctx: Context,
    tenants: Annotated[Collection[str] | None, Depends(tenant_scope)],
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
    camera: Values = None,
    class_: Annotated[list[str] | None, Query(alias="class")] = None,
    module: Annotated[str | None, Query(max_length=64)] = None,
    type_: Annotated[str | None, Query(alias="type", max_length=64)] = None,
    zone: Annotated[str | None, Query(max_length=128)] = None,
    line: Annotated[str | None, Query(max_length=128)] = None,
    state: EventState | None = None,
) -> EventCountOut:
    start_ms, end_ms = time_range(start, end, default_span_ms=None, now_ms=now_ms())
    query = EventQuery(
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
    return EventCountOut(total=event_rows.count(ctx.store.engine, query))
