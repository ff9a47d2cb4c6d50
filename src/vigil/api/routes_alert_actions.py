"""Adding and editing alert actions (webhook, MQTT, e-mail) through the API, secrets
write-only (vigil.alerts.stored_actions): the answer never carries one, and an edit that
leaves one blank keeps it. Listing is `GET /api/alert-actions` (routes_alerts).

A new action of a tenant other than `default` is named in its tenant's namespace
('pager' → 'acme:pager', vigil.domain.namespaces), as camera ids are; rules name actions
exactly as they are listed (config-file actions bare, the tenant's own with its prefix)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Response
from pydantic import BaseModel, Field

from vigil.alerts.service import AlertService, RuleError
from vigil.alerts.stored_actions import StoredAction, public
from vigil.api.access import tenant_scope, visible
from vigil.api.context import Alerts
from vigil.api.errors import error_responses
from vigil.api.params import NAMESPACED_PATTERN
from vigil.auth.deps import require_principal
from vigil.auth.principal import Principal
from vigil.domain import namespaces

Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
Name = Annotated[
    str,
    Path(
        pattern=NAMESPACED_PATTERN,
        max_length=namespaces.MAX_LENGTH,
        description="Action name. A new action of a tenant other than 'default' gets the "
        "tenant's prefix ('pager' → 'acme:pager'); an existing one is named as listed",
    ),
]
Settings = Annotated[
    dict[str, Any],
    Body(description="The action's settings as in alerts.actions of the config file (`type` "
         "webhook, mqtt or email, …); a secret (secret, headers, password) left out or blank "
         "keeps the stored one"),
]

router = APIRouter(tags=["alerts"])


class SavedActionOut(BaseModel):
    name: str
    tenant: str
    type: str
    settings: dict[str, Any] = Field(description="Without secrets")
    secrets_set: list[str] = Field(description="Secrets that are set (never shown)")
    updated_by: str


def _out(row: StoredAction) -> SavedActionOut:
    settings, secrets = public(row.config)
    return SavedActionOut(name=row.name, tenant=row.tenant, type=row.config.type,
                          settings=settings, secrets_set=secrets, updated_by=row.updated_by)


def _tenant(tenants: Collection[str] | None, settings: dict[str, Any]) -> str:
    """The tenant the action belongs to: the caller's own, or (for callers of every tenant)
    the body's `tenant`, default "default"."""
    tenant = settings.pop("tenant", None)
    if tenants is not None and len(tenants) == 1:
        own = next(iter(tenants))
        if tenant not in (None, own):
            raise HTTPException(403, f"tenant {tenant!r} is not yours")
        return own
    if not isinstance(tenant, str | None):
        raise HTTPException(422, "tenant: a tenant id")
    tenant = tenant or "default"
    if not visible(tenant, tenants):
        raise HTTPException(403, f"tenant {tenant!r} is not yours")
    return tenant


def _save(alerts: AlertService, name: str, settings: dict[str, Any], tenants: Collection[str]
          | None, principal: Principal, *, create: bool) -> SavedActionOut:
    tenant = _tenant(tenants, settings)
    if create:
        # A new name lives in its tenant's namespace, so whether it is free never depends on
        # another tenant; another tenant's prefix is a 422 that depends only on the request.
        try:
            name = namespaces.qualify(name, tenant, "action", "name")
        except namespaces.NamespaceError as error:
            raise HTTPException(422, f"name: {error}") from None
    try:
        return _out(alerts.save_action(name, tenant, settings, by=principal.username,
                                       create=create))
    except RuleError as error:
        raise HTTPException(error.status, error.message) from None


@router.post(
    "/api/alert-actions/{name}",
    summary="Add an alert action (webhook, MQTT or e-mail) that rules of your tenant may use",
    status_code=201,
    response_model=SavedActionOut,
    responses=error_responses(403, 409, 422),
)
def add_action(alerts: Alerts, name: Name, settings: Settings, tenants: Scope, response: Response,
               principal: Annotated[Principal, Depends(require_principal)]) -> SavedActionOut:
    saved = _save(alerts, name, settings, tenants, principal, create=True)
    response.headers["Location"] = f"/api/alert-actions/{saved.name}"
    return saved


@router.put(
    "/api/alert-actions/{name}",
    summary="Edit an alert action of the API; secrets left blank are kept",
    response_model=SavedActionOut,
    responses=error_responses(403, 404, 409, 422),
)
def edit_action(alerts: Alerts, name: Name, settings: Settings, tenants: Scope,
                principal: Annotated[Principal, Depends(require_principal)]) -> SavedActionOut:
    return _save(alerts, name, settings, tenants, principal, create=False)
