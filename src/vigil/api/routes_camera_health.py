"""GET /api/camera-health: for each camera the caller may see, how old its live picture is and
whether it is ok, amber or red, with the reasons; and how many cameras are degraded, for the
header. The live wall and the header poll it (vigil.api.camera_health says how it is judged)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from vigil.api.access import tenant_scope, visible
from vigil.api.camera_health import AMBER_AGE_S, RED_AGE_S, Code, DropMeter, Level, assess
from vigil.api.context import Context
from vigil.domain.frames import now_ms

router = APIRouter(tags=["cameras"])


class ReasonOut(BaseModel):
    code: Code
    level: Level
    text: str = Field(description="For people: what is wrong, with the figure")


class CameraHealthOut(BaseModel):
    camera_id: str
    name: str
    level: Level
    picture_age_s: float | None = Field(
        description="Now minus the capture time of the picture the live view shows; null "
        "while there is none"
    )
    reasons: list[ReasonOut]
    analysed_fps: float
    input_fps: float
    analysis_fps: float = Field(description="The analysed rate the camera is configured for")


class CameraHealthPageOut(BaseModel):
    cameras: int
    online: int
    degraded: int = Field(description="Cameras amber or red, offline ones included")
    amber_after_s: float
    red_after_s: float
    items: list[CameraHealthOut]


def drop_meter(request: Request) -> DropMeter:
    """One meter per app: dropped-frame totals remembered between requests."""
    state = request.app.state
    if not hasattr(state, "drop_meter"):
        state.drop_meter = DropMeter()
    return cast(DropMeter, state.drop_meter)


@router.get(
    "/api/camera-health",
    summary="How old each camera's live picture is, and why it is amber or red",
    response_model=CameraHealthPageOut,
)
def camera_health(
    ctx: Context,
    tenants: Annotated[Collection[str] | None, Depends(tenant_scope)],
    meter: Annotated[DropMeter, Depends(drop_meter)],
) -> CameraHealthPageOut:
    now = now_ms()
    items = []
    online = 0
    for camera in ctx.engine.cameras():
        if not visible(camera.tenant, tenants, camera.id, "cameras"):
            continue
        status = ctx.engine.status(camera.id)
        if status is None:
            continue
        online += status.online
        health = assess(
            status,
            now_ms=now,
            analysis_fps=camera.analysis_fps,
            dropped_recently=meter.recent(camera.id, status.dropped_frames),
            enabled=camera.enabled,
        )
        items.append(
            CameraHealthOut(
                camera_id=camera.id,
                name=camera.name or camera.id,
                level=health.level,
                picture_age_s=health.picture_age_s,
                reasons=[
                    ReasonOut(code=r.code, level=r.level, text=r.text) for r in health.reasons
                ],
                analysed_fps=status.analysed_fps,
                input_fps=status.input_fps,
                analysis_fps=camera.analysis_fps,
            )
        )
    return CameraHealthPageOut(
        cameras=len(items),
        online=online,
        degraded=sum(1 for item in items if item.level != "ok"),
        amber_after_s=AMBER_AGE_S,
        red_after_s=RED_AGE_S,
        items=items,
    )
