"""Health, the event JSON Schema and the analytics module catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vigil.api.context import Context
from vigil.api.schemas import HealthOut, ModuleOut
from vigil.domain.events import event_json_schema
from vigil.modules.registry import describe_modules

router = APIRouter(tags=["meta"])


@router.get("/healthz", summary="Liveness and camera counts", response_model=HealthOut)
def healthz(ctx: Context) -> HealthOut:
    statuses = ctx.engine.statuses()
    return HealthOut(cameras=len(statuses), online=sum(1 for s in statuses if s.online))


@router.get("/api/schema/event", summary="JSON Schema of the event")
def event_schema() -> dict[str, Any]:
    return event_json_schema()


@router.get(
    "/api/modules",
    summary="Analytics modules with their settings schema",
    response_model=list[ModuleOut],
)
def modules() -> list[dict[str, Any]]:
    return describe_modules()
