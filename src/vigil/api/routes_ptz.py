"""PTZ of a saved camera, with the ONVIF credentials stored with it (`ptz.onvif_url`): move it
to a preset, so that it analyses that preset's zones and lines, and see where it is and when
it returns home. The moving itself is vigil.pipeline.ptz."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response
from pydantic import BaseModel, Field, model_validator
from starlette.concurrency import run_in_threadpool

from vigil.api.access import tenant_scope
from vigil.api.context import AppContext, Context, Ptz
from vigil.api.errors import error_responses
from vigil.api.params import CAMERA_ID_MAX, CAMERA_ID_PATTERN
from vigil.api.routes_cameras import find
from vigil.config import CameraConfig
from vigil.sources import onvif
from vigil.sources.base import SourceError
from vigil.sources.policy import PolicyRefusal

Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
CameraId = Annotated[
    str, Path(pattern=CAMERA_ID_PATTERN, max_length=CAMERA_ID_MAX, description="Camera id")
]

router = APIRouter(prefix="/api/cameras", tags=["onvif"])


def camera_lookup(ctx: AppContext) -> Callable[[str], CameraConfig | None]:
    """A camera's current settings by id, for PTZ timers (which act for no caller, so see
    every tenant's): the stored ones, or the running ones of the config file."""

    def lookup(camera_id: str) -> CameraConfig | None:
        stored = ctx.store.get_camera(camera_id, None)
        if stored is not None:
            return stored.config
        return next((c for c in ctx.engine.cameras() if c.id == camera_id), None)

    return lookup


class GotoIn(BaseModel):
    preset: str = Field(min_length=1, max_length=64, description="Preset token")


class MoveIn(BaseModel):
    pan: float = Field(0, ge=-1, le=1, description="Share of the pan range; positive: right")
    tilt: float = Field(0, ge=-1, le=1, description="Share of the tilt range; positive: up")
    zoom: float = Field(0, ge=-1, le=1, description="Share of the zoom range; positive: in")

    @model_validator(mode="after")
    def _moves(self) -> MoveIn:
        if self.pan == 0 and self.tilt == 0 and self.zoom == 0:
            raise ValueError("give at least one of pan, tilt and zoom other than 0")
        return self


class PtzOut(BaseModel):
    preset: str | None = Field(description="The preset Vigil last moved it to")
    moving: bool = Field(description="Modules paused until the camera settles")
    off_preset: bool = Field(
        description="Moved by pan, tilt or zoom since: modules paused until it is at a preset"
    )
    home_preset: str | None
    home_in_s: float | None = Field(description="Seconds until it returns to its home preset")


@router.get(
    "/{camera_id}/ptz",
    summary="Where a PTZ camera is, and when it returns home",
    response_model=PtzOut,
    responses=error_responses(404, 422),
)
def ptz_state(ctx: Context, ptz: Ptz, camera_id: CameraId, tenants: Scope) -> PtzOut:
    camera, _origin = find(ctx, camera_id, tenants)
    if camera.ptz is None:
        raise HTTPException(422, f"ptz: camera {camera_id!r} has no ptz settings")
    state = ptz.state(camera_id)
    return PtzOut(
        preset=state.preset,
        moving=state.moving,
        off_preset=state.off_preset,
        home_preset=camera.ptz.home_preset,
        home_in_s=state.home_in_s,
    )


@router.post(
    "/{camera_id}/ptz/goto",
    summary="Move a PTZ camera to a preset and analyse that preset's zones and lines",
    description=(
        "Uses the ONVIF address and credentials stored in the camera's `ptz` settings. The "
        "camera's modules pause until it has settled (`ptz.settle_s`); then it is analysed "
        "with the zones and lines of `ptz.presets.<preset>` (its own where the preset has "
        "none). Away from `ptz.home_preset`, it returns there after `ptz.return_home_s` "
        "without another move."
    ),
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 422),
)
async def goto(
    ctx: Context, ptz: Ptz, camera_id: CameraId, body: GotoIn, tenants: Scope
) -> Response:
    await _moved(ctx, camera_id, tenants, lambda: ptz.goto(camera_id, body.preset))
    return Response(status_code=204)


@router.post(
    "/{camera_id}/ptz/move",
    summary="Pan, tilt or zoom a PTZ camera by a step",
    description=(
        "An ONVIF RelativeMove with the address and credentials stored in the camera's `ptz` "
        "settings. The camera is then at no preset, so no zone or line fits its picture: its "
        "modules pause until it goes to a preset again (`/ptz/goto`, or by itself to "
        "`ptz.home_preset` after `ptz.return_home_s`)."
    ),
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 422),
)
async def move(
    ctx: Context, ptz: Ptz, camera_id: CameraId, body: MoveIn, tenants: Scope
) -> Response:
    step = onvif.PtzStep(pan=body.pan, tilt=body.tilt, zoom=body.zoom)
    await _moved(ctx, camera_id, tenants, lambda: ptz.move(camera_id, step))
    return Response(status_code=204)


async def _moved(
    ctx: AppContext, camera_id: str, tenants: Collection[str] | None, action: Callable[[], None]
) -> None:
    """Run a move of a camera the caller may see, with the camera's failures as 422s."""
    camera, _origin = await run_in_threadpool(find, ctx, camera_id, tenants)
    if camera.ptz is None:
        raise HTTPException(422, f"ptz: camera {camera_id!r} has no ptz settings")
    try:
        await run_in_threadpool(action)
    except PolicyRefusal as refusal:
        raise HTTPException(422, f"ptz.onvif_url: {refusal.public}") from None
    except SourceError as error:
        raise HTTPException(422, f"ptz.onvif_url: the camera cannot be reached ({error})") from None
    except onvif.OnvifProblem as problem:
        raise HTTPException(422, f"ptz: the camera did not move: {problem}") from None
