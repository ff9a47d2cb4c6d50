"""Alert rules (list, add, change, remove, test), the configured actions, and fired alerts.

Rules of the config file are listed with origin 'config' and are read-only here; rules added
through the API are stored and take effect at once. Action settings hold secrets, so only
their names, types and targets are shown.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field, field_validator

from vigil.alerts.alert import iso
from vigil.alerts.config import RuleConfig, RuleSpec, check_rule_id
from vigil.alerts.preview import empty_condition, preview, too_broad
from vigil.alerts.service import AlertService, RuleError
from vigil.alerts.stored_actions import public
from vigil.api.access import tenant_scope, visible
from vigil.api.alert_acks import (
    AcknowledgementOut,
    EscalationOut,
    acknowledgement_out,
    escalation_out,
)
from vigil.api.context import Alerts, AppContext, Context
from vigil.api.errors import error_responses
from vigil.api.params import EVENT_ID_PATTERN, NAMESPACED_PATTERN, split_values, time_range
from vigil.domain import namespaces
from vigil.domain.events import Event, uuid7
from vigil.domain.frames import now_ms
from vigil.store import acks as ack_rows
from vigil.store import alerts as alert_rows
from vigil.store.acks import Ack
from vigil.store.alerts import AlertQuery, StoredAlert, StoredRule
from vigil.store.events import get_many

RuleId = Annotated[
    str, Path(pattern=NAMESPACED_PATTERN, max_length=namespaces.MAX_LENGTH, description="Rule id")
]
AlertId = Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="Alert id")]
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]


class RuleIn(RuleSpec):
    id: str | None = Field(
        None,
        description="Lower-case letters, digits, '-' and '_'; generated when left out. For a "
        "tenant other than 'default' the server prefixes it with the tenant ('door' → "
        "'acme:door'); another tenant's prefix is refused",
    )

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        return None if value is None else check_rule_id(value)


class RuleOut(RuleConfig):
    origin: Literal["config", "api"] = Field(
        description="'config': declared in the config file (read-only here); 'api': added "
        "through this API"
    )
    created: str | None = Field(description="ISO 8601 UTC; null for config-file rules")
    updated: str | None


class ActionOut(BaseModel):
    name: str
    type: str
    target: str = Field(description="Where it delivers to, without credentials")
    retries: int
    timeout_s: float
    origin: Literal["config", "api"] = Field(
        "config", description="api: added through the API, editable; config: read-only"
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="For actions of the API: the settings without secrets"
    )
    secrets_set: list[str] = Field(
        default_factory=list, description="Secrets that are set (never shown; write-only)"
    )


class AttemptOut(BaseModel):
    attempt: int
    at: str
    ok: bool
    detail: str


class OutcomeOut(BaseModel):
    type: str
    status: Literal["pending", "retrying", "delivered", "failed"]
    attempts: int
    last_error: str | None
    delivered: str | None
    history: list[AttemptOut] = Field(description="The most recent attempts, oldest first")


class AlertOut(BaseModel):
    id: str
    tenant: str
    rule_id: str
    rule_name: str
    event_id: str
    camera_id: str
    event_type: str
    fired: str = Field(description="ISO 8601 UTC")
    fired_ms: int
    count: int | None = Field(description="Matching events within the window (count rules)")
    status: Literal["pending", "delivered", "partial", "failed", "recorded"] = Field(
        description="'recorded': the rule has no actions"
    )
    attempts: int = Field(description="Delivery attempts over all actions")
    last_error: str | None
    outcomes: dict[str, OutcomeOut] = Field(description="By action name")
    event: Event | None = Field(description="The event; null once retention removed it")
    acknowledged: AcknowledgementOut | None = Field(
        None, description="Who acknowledged it, when, with which note; null while it is firing"
    )
    escalated: EscalationOut | None = Field(
        None, description="Sent through the rule's escalation because nobody acknowledged it"
    )


class AlertPageOut(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page"
    )


class TestOutcomeOut(BaseModel):
    ok: bool
    retryable: bool = Field(description="Whether a real alert would be retried after this")
    detail: str


class RuleTestOut(BaseModel):
    rule_id: str
    outcomes: dict[str, TestOutcomeOut] = Field(description="By action name")


def rule_out(stored: StoredRule) -> RuleOut:
    return RuleOut(
        **stored.rule.model_dump(),
        origin=stored.origin,
        created=iso(stored.created_ms) if stored.created_ms is not None else None,
        updated=iso(stored.updated_ms) if stored.updated_ms is not None else None,
    )


def _outcome_out(entry: dict[str, Any]) -> OutcomeOut:
    delivered_ms = entry.get("delivered_ms")
    return OutcomeOut(
        type=entry.get("type", ""),
        status=entry.get("status", "pending"),
        attempts=entry.get("attempts", 0),
        last_error=entry.get("last_error"),
        delivered=iso(delivered_ms) if delivered_ms is not None else None,
        history=[
            AttemptOut(
                attempt=item["attempt"], at=iso(item["at_ms"]), ok=item["ok"], detail=item["detail"]
            )
            for item in entry.get("history", [])
        ],
    )


def alert_out(alert: StoredAlert, event: Event | None, ack: Ack | None = None) -> AlertOut:
    return AlertOut(
        id=alert.id,
        tenant=alert.tenant,
        rule_id=alert.rule_id,
        rule_name=alert.rule_name,
        event_id=alert.event_id,
        camera_id=alert.camera_id,
        event_type=alert.event_type,
        fired=iso(alert.fired_ms),
        fired_ms=alert.fired_ms,
        count=alert.match_count,
        status=alert.status,
        attempts=alert.attempts,
        last_error=alert.last_error,
        outcomes={name: _outcome_out(entry) for name, entry in alert.outcomes.items()},
        event=event,
        acknowledged=acknowledgement_out(ack),
        escalated=escalation_out(ack),
    )


router = APIRouter(tags=["alerts"])


def find_rule(alerts: AlertService, rule_id: str, tenants: Collection[str] | None) -> StoredRule:
    stored = alerts.get_rule(rule_id, tenants)
    if stored is None:
        raise HTTPException(404, f"no alert rule with id {rule_id!r}")
    return stored


def in_namespace(rule_id: str, tenant: str) -> str:
    """A chosen rule id in its tenant's namespace ('door' of tenant acme is 'acme:door'), so
    whether it is free never depends on another tenant; another tenant's prefix is a 422 that
    depends only on the request."""
    try:
        return namespaces.qualify(rule_id, tenant, "rule", "id")
    except namespaces.NamespaceError as error:
        raise HTTPException(422, f"body.id: {error}") from None


def from_body(
    ctx: AppContext, body: RuleIn, rule_id: str | None, tenants: Collection[str] | None
) -> RuleConfig:
    """The rule of the body; with `rule_id` None (a new rule), its id is the body's, in the
    tenant's namespace, or a generated uuid7. Generated ids stay bare: 74 random bits cannot
    be guessed, and a chosen id of a tenant other than `default` always carries its prefix,
    so a free generated id never answers for another tenant's."""
    values = {**body.model_dump(), "id": rule_id or uuid7()}
    # A caller of one tenant need not name it.
    if "tenant" not in body.model_fields_set and tenants is not None and len(tenants) == 1:
        values["tenant"] = next(iter(tenants))
    rule = RuleConfig(**values)
    if not visible(rule.tenant, tenants):
        raise HTTPException(403, f"tenant {rule.tenant!r} is not yours")
    if rule_id is None and body.id is not None:
        rule = rule.model_copy(update={"id": in_namespace(body.id, rule.tenant)})
    # An empty form must not become a rule that pages someone for every event.
    problem = empty_condition(rule) or too_broad(
        preview(ctx.store.engine, rule, tenants, now_ms=now_ms())
    )
    if problem:
        raise HTTPException(422, problem)
    return rule


def save(alerts: AlertService, rule: RuleConfig, *, create: bool) -> RuleOut:
    try:
        return rule_out(alerts.save_rule(rule, create=create))
    except RuleError as error:
        raise HTTPException(error.status, error.message) from None


@router.get(
    "/api/alert-actions",
    summary="Configured alert actions (names, types and targets; no secrets)",
    response_model=list[ActionOut],
)
def list_actions(alerts: Alerts, tenants: Scope) -> list[ActionOut]:
    shown = []
    for name, action in alerts.actions.items():
        tenant = alerts.action_tenants.get(name)
        if tenant is not None and not visible(tenant, tenants):
            continue  # another tenant's action
        settings, secrets = public(action.config)
        shown.append(
            ActionOut(
                name=name,
                type=action.kind,
                target=action.target(),
                retries=action.config.retries,
                timeout_s=action.config.timeout_s,
                origin="config" if tenant is None else "api",
                settings={} if tenant is None else settings,
                secrets_set=[] if tenant is None else secrets,
            )
        )
    return shown


@router.get(
    "/api/alert-rules",
    summary="Alert rules: those of the config file, then those added through the API",
    response_model=list[RuleOut],
)
def list_rules(alerts: Alerts, tenants: Scope) -> list[RuleOut]:
    return [rule_out(stored) for stored in alerts.list_rules(tenants)]


@router.post(
    "/api/alert-rules",
    summary="Add an alert rule; it applies to events from now on",
    status_code=201,
    response_model=RuleOut,
    responses=error_responses(403, 409, 413, 422),
)
def add_rule(
    ctx: Context, alerts: Alerts, body: RuleIn, response: Response, tenants: Scope
) -> RuleOut:
    rule = from_body(ctx, body, None, tenants)
    created = save(alerts, rule, create=True)
    response.headers["Location"] = f"/api/alert-rules/{rule.id}"
    return created


@router.get(
    "/api/alert-rules/{rule_id}",
    summary="One alert rule",
    response_model=RuleOut,
    responses=error_responses(404, 422),
)
def get_rule(alerts: Alerts, rule_id: RuleId, tenants: Scope) -> RuleOut:
    return rule_out(find_rule(alerts, rule_id, tenants))


@router.put(
    "/api/alert-rules/{rule_id}",
    summary="Replace an alert rule added through the API",
    description="Rules of the config file are changed in the file (409 here). A changed "
    "rule starts afresh: its counts and cool-downs are reset.",
    response_model=RuleOut,
    responses=error_responses(403, 404, 409, 413, 422),
)
def replace_rule(
    ctx: Context, alerts: Alerts, rule_id: RuleId, body: RuleIn, tenants: Scope
) -> RuleOut:
    current = find_rule(alerts, rule_id, tenants).rule
    # A bare id in the body names the rule of its tenant, as in a new rule's body.
    if body.id is not None and body.id != rule_id and (
        namespaces.SEPARATOR in body.id or in_namespace(body.id, current.tenant) != rule_id
    ):
        raise HTTPException(
            422, f"id: the body's id {body.id!r} differs from the path's {rule_id!r}"
        )
    rule = from_body(ctx, body, rule_id, tenants)
    generated = re.match(EVENT_ID_PATTERN, rule_id) is not None
    if rule.tenant != current.tenant and not generated:
        # A chosen id stays in its tenant's namespace: moved, it would answer for another.
        misplaced = namespaces.misplaced(rule_id, rule.tenant, "rule", "id")
        if misplaced:
            raise HTTPException(422, f"tenant: {misplaced}; add it anew to move it")
    return save(alerts, rule, create=False)


@router.delete(
    "/api/alert-rules/{rule_id}",
    summary="Remove an alert rule added through the API (its fired alerts are kept)",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 409, 422),
)
def delete_rule(alerts: Alerts, rule_id: RuleId, tenants: Scope) -> Response:
    find_rule(alerts, rule_id, tenants)
    try:
        alerts.delete_rule(rule_id)
    except RuleError as error:
        raise HTTPException(error.status, error.message) from None
    return Response(status_code=204)


@router.post(
    "/api/alert-rules/{rule_id}/test",
    summary="Send a test alert through the rule's actions and report each outcome",
    description="The alert carries a made-up event (`attributes.test` is true, and "
    "`alert.test` in webhook and MQTT payloads). One attempt per action, no retries; "
    "nothing is stored.",
    response_model=RuleTestOut,
    responses=error_responses(404, 422),
)
def test_rule(alerts: Alerts, rule_id: RuleId, tenants: Scope) -> RuleTestOut:
    stored = find_rule(alerts, rule_id, tenants)
    outcomes = alerts.test_rule(stored.rule)
    return RuleTestOut(
        rule_id=rule_id,
        outcomes={
            name: TestOutcomeOut(ok=attempt.ok, retryable=attempt.retryable, detail=attempt.detail)
            for name, attempt in outcomes.items()
        },
    )


@router.get(
    "/api/alerts",
    summary="Fired alerts, newest first, with each action's delivery outcome",
    response_model=AlertPageOut,
    responses=error_responses(422),
)
def list_alerts(
    ctx: Context,
    tenants: Scope,
    start: Annotated[str | None, Query(description="ISO 8601; fired at or after")] = None,
    end: Annotated[str | None, Query(description="ISO 8601; fired before")] = None,
    rule: Annotated[list[str] | None, Query(description="Rule ids")] = None,
    camera: Annotated[list[str] | None, Query(description="Camera ids")] = None,
    status: Annotated[
        list[str] | None,
        Query(description="pending, delivered, partial, failed or recorded"),
    ] = None,
    limit: Annotated[int, Query(description="Page size, 1-1000")] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> AlertPageOut:
    start_ms, end_ms = time_range(start, end, default_span_ms=None, now_ms=now_ms())
    query = AlertQuery(
        tenants=tenants,
        start_ms=start_ms,
        end_ms=end_ms,
        rule_ids=split_values(rule, "rule"),
        camera_ids=split_values(camera, "camera"),
        statuses=split_values(status, "status"),
        limit=limit,
        cursor=cursor or None,
    )
    engine = ctx.store.engine
    page = alert_rows.query_alerts(engine, query)
    events = get_many(engine, {a.event_id for a in page.items}, tenants)
    acks = ack_rows.acks_for(engine, [item.id for item in page.items])
    return AlertPageOut(
        items=[
            alert_out(item, events.get(item.event_id), acks.get(item.id)) for item in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/api/alerts/{alert_id}",
    summary="One fired alert",
    response_model=AlertOut,
    responses=error_responses(404, 422),
)
def get_alert(ctx: Context, alert_id: AlertId, tenants: Scope) -> AlertOut:
    engine = ctx.store.engine
    alert = alert_rows.get_alert(engine, alert_id, tenants)
    if alert is None:
        raise HTTPException(404, f"no alert with id {alert_id!r}")
    return alert_out(
        alert,
        ctx.store.get_event(alert.event_id, tenants),
        ack_rows.acks_for(engine, [alert.id]).get(alert.id),
    )
