"""What the operator's console needs of alerts: the alerts firing now (fired, not acknowledged)
for the banner on every page, acknowledging one with a note, and trying a rule on the last 24
hours of events before saving it."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from vigil.alerts.alert import iso
from vigil.alerts.config import RuleConfig
from vigil.alerts.preview import MAX_FIRINGS_PER_DAY, empty_condition, preview, too_broad
from vigil.api.access import tenant_scope, visible
from vigil.api.alert_acks import AcknowledgementOut, acknowledgement_out
from vigil.api.context import Context
from vigil.api.errors import error_responses
from vigil.api.params import EVENT_ID_PATTERN
from vigil.api.routes_alerts import RuleIn
from vigil.auth.deps import require_principal
from vigil.auth.principal import Principal
from vigil.domain.frames import now_ms
from vigil.store import acks as ack_rows
from vigil.store import alerts as alert_rows
from vigil.store.acks import MAX_NOTE
from vigil.store.events import get_many

FIRING_SPAN_MS = 24 * 3600 * 1000
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
AlertId = Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="Alert id")]

router = APIRouter(tags=["alerts"])


class FiringAlertOut(BaseModel):
    id: str
    rule_id: str
    rule_name: str
    camera_id: str
    camera_name: str = Field(description="The camera's name; its id once the event is gone")
    event_id: str
    event_type: str
    fired: str = Field(description="ISO 8601 UTC")
    fired_ms: int
    escalated: bool = Field(description="Already sent through the rule's escalation")


class FiringOut(BaseModel):
    count: int = Field(description="Alerts of the last 24 hours nobody acknowledged")
    since: str = Field(description="ISO 8601 UTC: the start of those 24 hours")
    items: list[FiringAlertOut] = Field(description="The newest of them, newest first")


class AcknowledgeIn(BaseModel):
    note: str = Field("", max_length=MAX_NOTE, description="What was done or found")


class PreviewOut(BaseModel):
    start: str = Field(description="ISO 8601 UTC")
    end: str
    matched: int = Field(description="Events of the last 24 hours the rule's conditions match")
    fired: int = Field(description="Alerts it would have fired (after counts and cool-downs)")
    scanned: int = Field(description="Stored events replayed")
    truncated: bool = Field(description="More events than the preview replays: the newest only")
    max_fired: int = Field(description="A rule that would fire more often is refused")
    problem: str | None = Field(description="Why saving this rule would be refused, if it would")


@router.get(
    "/api/alerts/firing",
    summary="Alerts firing now: fired in the last 24 hours and not acknowledged",
    response_model=FiringOut,
    responses=error_responses(422),
)
def firing(
    ctx: Context,
    tenants: Scope,
    limit: Annotated[int, Query(ge=1, le=100, description="Newest alerts listed")] = 5,
) -> FiringOut:
    engine = ctx.store.engine
    since = now_ms() - FIRING_SPAN_MS
    count, items = ack_rows.firing(engine, tenants, since_ms=since, limit=limit)
    events = get_many(engine, {item.event_id for item in items}, tenants)
    escalated = ack_rows.acks_for(engine, [item.id for item in items])
    return FiringOut(
        count=count,
        since=iso(since),
        items=[
            FiringAlertOut(
                id=item.id,
                rule_id=item.rule_id,
                rule_name=item.rule_name,
                camera_id=item.camera_id,
                camera_name=event.camera_name
                if (event := events.get(item.event_id))
                else item.camera_id,
                event_id=item.event_id,
                event_type=item.event_type,
                fired=iso(item.fired_ms),
                fired_ms=item.fired_ms,
                escalated=(ack := escalated.get(item.id)) is not None
                and ack.escalated_ms is not None,
            )
            for item in items
        ],
    )


@router.post(
    "/api/alerts/{alert_id}/acknowledge",
    summary="Acknowledge a fired alert, with a note; it stops firing and is not escalated",
    description="The first acknowledgement stands: a second one answers 409 naming who "
    "acknowledged it and when.",
    response_model=AcknowledgementOut,
    responses=error_responses(404, 409, 422),
)
def acknowledge(
    ctx: Context,
    alert_id: AlertId,
    body: AcknowledgeIn,
    tenants: Scope,
    principal: Annotated[Principal, Depends(require_principal)],
) -> AcknowledgementOut:
    engine = ctx.store.engine
    alert = alert_rows.get_alert(engine, alert_id, tenants)
    if alert is None:
        raise HTTPException(404, f"no alert with id {alert_id!r}")
    ack, first = ack_rows.acknowledge(
        engine, alert, by=principal.username, note=body.note.strip(), at_ms=now_ms()
    )
    out = acknowledgement_out(ack)
    assert out is not None  # acknowledge() always leaves an acknowledgement
    if not first:
        raise HTTPException(
            409, f"alert {alert_id!r} was already acknowledged by {out.by} at {out.at}"
        )
    return out


@router.post(
    "/api/alert-rules/preview",
    summary="Try a rule on the last 24 hours of events before saving it",
    description="Replays the stored events of the caller's cameras through the rule alone: "
    "how many events it matches and how many alerts it would have fired (count thresholds, "
    "schedule and cool-down applied). Nothing is stored or sent. `problem` says why saving "
    "the rule would be refused (no condition at all, or more alerts a day than "
    "`max_fired`).",
    response_model=PreviewOut,
    responses=error_responses(403, 422),
)
def preview_rule(ctx: Context, body: RuleIn, tenants: Scope) -> PreviewOut:
    values = {**body.model_dump(), "id": body.id or "preview"}
    if "tenant" not in body.model_fields_set and tenants is not None and len(tenants) == 1:
        values["tenant"] = next(iter(tenants))
    rule = RuleConfig(**values)
    if not visible(rule.tenant, tenants):
        raise HTTPException(403, f"tenant {rule.tenant!r} is not yours")
    result = preview(ctx.store.engine, rule, tenants, now_ms=now_ms())
    problem = empty_condition(rule) or too_broad(result)
    return PreviewOut(
        start=iso(result.start_ms),
        end=iso(result.end_ms),
        matched=result.matched,
        fired=result.fired,
        scanned=result.scanned,
        truncated=result.truncated,
        max_fired=MAX_FIRINGS_PER_DAY,
        problem=problem,
    )
