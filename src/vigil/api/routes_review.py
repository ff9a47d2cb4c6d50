"""Review items (vigil.store.review): the events of the caller's cameras grouped per incident,
newest first, with severity and reviewed state, and marking one reviewed."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from vigil.alerts.alert import iso
from vigil.api.access import tenant_scope
from vigil.api.context import Context
from vigil.api.errors import error_responses
from vigil.api.params import EVENT_ID_PATTERN, split_values, time_range
from vigil.auth.deps import require_principal
from vigil.auth.principal import Principal
from vigil.domain.events import Event
from vigil.domain.frames import now_ms
from vigil.store import review

DEFAULT_SPAN_MS = 24 * 3600 * 1000
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
SeverityName = Literal["alert", "detection", "info"]

router = APIRouter(tags=["events"])


class ReviewedOut(BaseModel):
    by: str
    at: str = Field(description="ISO 8601 UTC")


class ReviewItemOut(BaseModel):
    id: str = Field(description="The id of the item's first event")
    camera_id: str
    camera_name: str
    track_id: int | None = Field(description="The track the events follow; null for a burst")
    start: str
    end: str
    start_ms: int
    end_ms: int
    severity: SeverityName
    types: list[str] = Field(description="Event types in the item, most frequent first")
    classes: list[str]
    places: list[str] = Field(description="Zones and lines")
    count: int = Field(description="Events in the item")
    cover: Event = Field(description="The event whose snapshot and clip stand for the item")
    event_ids: list[str] = Field(description="Oldest first")
    reviewed: ReviewedOut | None


class ReviewPageOut(BaseModel):
    start: str
    end: str
    total: int = Field(description="Items matching the filters")
    unreviewed: int = Field(description="Of those, not reviewed yet")
    items: list[ReviewItemOut]


class ReviewedIn(BaseModel):
    reviewed: bool = True


def _counted(values: list[str]) -> list[str]:
    order: dict[str, int] = {}
    for value in values:
        order[value] = order.get(value, 0) + 1
    return sorted(order, key=lambda value: -order[value])


def item_out(item: review.ReviewItem) -> ReviewItemOut:
    events = item.events
    return ReviewItemOut(
        id=item.id,
        camera_id=item.camera_id,
        camera_name=item.camera_name,
        track_id=item.track_id,
        start=iso(item.start_ms),
        end=iso(item.end_ms),
        start_ms=item.start_ms,
        end_ms=item.end_ms,
        severity=item.severity,
        types=_counted([event.type for event in events]),
        classes=_counted([event.object.class_name for event in events if event.object]),
        places=_counted([place for event in events if (place := event.zone or event.line)]),
        count=len(events),
        cover=item.cover,
        event_ids=[event.id for event in events],
        reviewed=ReviewedOut(by=item.reviewed.by, at=iso(item.reviewed.at_ms))
        if item.reviewed
        else None,
    )


@router.get(
    "/api/review",
    summary="Review items: events grouped per incident, newest first",
    description="One item per track on a camera (its zone presence, loitering and crossings "
    "together) or per burst of events without a track, with severity (alert: a rule fired; "
    "detection; info: presence and counts only) and whether someone of the tenant reviewed "
    "it. The period defaults to the last 24 hours.",
    response_model=ReviewPageOut,
    responses=error_responses(422),
)
def list_review(
    ctx: Context,
    tenants: Scope,
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
    camera: Annotated[list[str] | None, Query(description="Camera ids")] = None,
    severity: Annotated[list[SeverityName] | None, Query(description="Severities")] = None,
    reviewed: Annotated[bool | None, Query(description="true/false: only (un)reviewed")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReviewPageOut:
    start_ms, end_ms = time_range(start, end, default_span_ms=DEFAULT_SPAN_MS, now_ms=now_ms())
    assert start_ms is not None and end_ms is not None  # the default span fills both
    page = review.load(
        ctx.store.engine,
        tenants,
        start_ms=start_ms,
        end_ms=end_ms,
        camera_ids=split_values(camera, "camera"),
        severities=severity,
        reviewed=reviewed,
        limit=limit,
    )
    return ReviewPageOut(
        start=iso(start_ms),
        end=iso(end_ms),
        total=page.total,
        unreviewed=page.unreviewed,
        items=[item_out(item) for item in page.items],
    )


@router.put(
    "/api/review/{item_id}",
    summary="Mark a review item reviewed (or unreviewed again) for the whole tenant",
    response_model=ReviewedOut | None,
    responses=error_responses(404, 422),
)
def mark(
    ctx: Context,
    item_id: Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="Review item id")],
    body: ReviewedIn,
    tenants: Scope,
    principal: Annotated[Principal, Depends(require_principal)],
) -> ReviewedOut | None:
    first = ctx.store.get_event(item_id, tenants)
    if first is None:
        raise HTTPException(404, f"no review item with id {item_id!r}")
    at = now_ms()
    review.set_reviewed(
        ctx.store.engine,
        first.tenant,
        item_id,
        by=principal.username if body.reviewed else None,
        at_ms=at,
    )
    return ReviewedOut(by=principal.username, at=iso(at)) if body.reviewed else None
