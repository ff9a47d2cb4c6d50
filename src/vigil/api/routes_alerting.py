"""The per-camera alert setting (vigil.domain.alert_types): which modules and event types count as
alerts on a camera, and which are just recorded."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from vigil.alerts.alert import iso
from vigil.api.access import tenant_scope, visible
from vigil.api.context import Alerts, Context, Retention
from vigil.api.errors import error_responses
from vigil.auth.deps import require_principal
from vigil.auth.principal import Principal
from vigil.config import CameraConfig
from vigil.domain.alert_types import choices
from vigil.domain.frames import now_ms
from vigil.store import alerting as rows
from vigil.store.alerting import CameraAlerting

Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
MAX_TYPES = 100

router = APIRouter(tags=["alerts"])


class CameraAlertingOut(BaseModel):
    camera_id: str
    camera_name: str
    alert_types: list[str] | None = Field(
        description="Modules and event types that count as alerts on this camera (the rest is "
        "just recorded); null: the default, every rule may fire"
    )
    choices: list[str] = Field(description="The camera's modules and the event types it recorded")
    updated_by: str | None
    updated: str | None = Field(description="ISO 8601 UTC")


class CameraAlertingIn(BaseModel):
    alert_types: list[str] | None = Field(
        max_length=MAX_TYPES,
        description="Modules or event types from `choices`; an empty list records everything "
        "and alerts on nothing; null returns to the default",
    )


def _out(ctx: Context, camera: CameraConfig, row: CameraAlerting | None) -> CameraAlertingOut:
    return CameraAlertingOut(
        camera_id=camera.id,
        camera_name=camera.name or camera.id,
        alert_types=None if row is None else row.alert_types,
        choices=choices(camera.modules, rows.seen_types(ctx.store.engine, camera.id)),
        updated_by=None if row is None else row.updated_by,
        updated=None if row is None else iso(row.updated_ms),
    )


def _camera(retention: Retention, camera_id: str, tenants: Scope) -> CameraConfig:
    for camera in retention.cameras():
        if camera.id == camera_id and visible(camera.tenant, tenants, camera.id):
            return camera
    raise HTTPException(404, f"no camera with id {camera_id!r}")


@router.get(
    "/api/alert-cameras",
    summary="Per camera: which event types count as alerts, and which are just recorded",
    response_model=list[CameraAlertingOut],
)
def list_settings(ctx: Context, retention: Retention, tenants: Scope) -> list[CameraAlertingOut]:
    settings = rows.load(ctx.store.engine, tenants)
    cameras = [c for c in retention.cameras() if visible(c.tenant, tenants, c.id)]
    return [_out(ctx, camera, settings.get(camera.id)) for camera in
            sorted(cameras, key=lambda c: c.id)]


@router.put(
    "/api/alert-cameras/{camera_id}",
    summary="Set which event types count as alerts on a camera (null: the default)",
    response_model=CameraAlertingOut,
    responses=error_responses(404, 422),
)
def put_setting(
    ctx: Context,
    alerts: Alerts,
    retention: Retention,
    camera_id: Annotated[str, Path(max_length=64)],
    body: CameraAlertingIn,
    tenants: Scope,
    principal: Annotated[Principal, Depends(require_principal)],
) -> CameraAlertingOut:
    camera = _camera(retention, camera_id, tenants)
    if body.alert_types is None:
        rows.delete(ctx.store.engine, camera.id)
        alerts.reload()
        return _out(ctx, camera, None)
    allowed = set(choices(camera.modules, rows.seen_types(ctx.store.engine, camera.id)))
    unknown = sorted(set(body.alert_types) - allowed)
    if unknown:
        raise HTTPException(
            422,
            f"alert_types: {', '.join(unknown)} is not a module or event type of camera "
            f"{camera.id} (choose from: {', '.join(sorted(allowed)) or 'none yet'})",
        )
    row = CameraAlerting(camera.id, camera.tenant, sorted(set(body.alert_types)),
                         principal.username, now_ms())
    rows.put(ctx.store.engine, row)
    alerts.reload()  # rules fire by the new setting from the next event on
    return _out(ctx, camera, row)
