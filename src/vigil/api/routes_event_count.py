"""GET /api/event-count: how many events match the Events page's filters, all pages together
(the page itself is fetched 50 at a time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from vigil.api.context import Context
from vigil.api.errors import error_responses
from vigil.api.routes_events import event_filters
from vigil.store import events as event_rows
from vigil.store.query import EventQuery

router = APIRouter(tags=["events"])


class EventCountOut(BaseModel):
    total: int


@router.get(
    "/api/event-count",
    summary="How many events match (the filters of GET /api/events)",
    response_model=EventCountOut,
    responses=error_responses(422),
)
def event_count(
    ctx: Context, filters: Annotated[EventQuery, Depends(event_filters)]
) -> EventCountOut:
    return EventCountOut(total=event_rows.count(ctx.store.engine, filters))
