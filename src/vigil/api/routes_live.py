"""Live view: the latest analysed frame as a JPEG or an MJPEG stream, and live module counters.

Frames come from the engine, which blurs faces unless privacy.blur_live is off; the API never
touches pixels itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from vigil.api.access import tenant_scope, visible
from vigil.api.context import AppContext, Context
from vigil.api.errors import error_responses
from vigil.api.params import CAMERA_ID_MAX, CAMERA_ID_PATTERN
from vigil.auth.streams import StreamGuard

CameraId = Annotated[
    str, Path(pattern=CAMERA_ID_PATTERN, max_length=CAMERA_ID_MAX, description="Camera id")
]
Overlay = Annotated[bool, Query(description="Draw boxes, track ids, zones and lines")]
Width = Annotated[
    int | None, Query(ge=16, le=4096, description="Scale down to at most this width in pixels")
]
Fps = Annotated[
    float, Query(allow_inf_nan=False, description="Frames per second at most, clamped to 1-15")
]
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
NO_STORE = {"Cache-Control": "no-store"}
BOUNDARY = "vigil-frame"
MIN_FPS, MAX_FPS = 1.0, 15.0


router = APIRouter(prefix="/api/cameras", tags=["live"])


def check_camera(ctx: AppContext, camera_id: str, tenants: Collection[str] | None) -> None:
    for camera in ctx.engine.cameras():
        if camera.id == camera_id and visible(camera.tenant, tenants, camera.id, "live"):
            return
    raise HTTPException(404, f"camera {camera_id!r} is not running")


@router.get(
    "/{camera_id}/live.jpg",
    summary="The latest analysed frame (faces blurred)",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "JPEG image"},
        **error_responses(404, 422, 503),
    },
)
def live_jpeg(
    ctx: Context, camera_id: CameraId, tenants: Scope, overlay: Overlay = True, width: Width = None
) -> Response:
    check_camera(ctx, camera_id, tenants)
    try:
        frame = ctx.engine.live_jpeg(camera_id, overlay=overlay, max_width=width)
    except KeyError:
        raise HTTPException(404, f"camera {camera_id!r} is not running") from None
    if frame is None:
        return JSONResponse(
            {"detail": f"camera {camera_id!r} has not delivered a frame yet"},
            status_code=503,
            headers={**NO_STORE, "Retry-After": "1"},
        )
    return Response(frame[0], media_type="image/jpeg", headers=NO_STORE)


@router.get(
    "/{camera_id}/live.mjpeg",
    summary="Live MJPEG stream of analysed frames (faces blurred)",
    description="multipart/x-mixed-replace; a part is sent only when a new frame exists. "
    "`fps` is clamped to 1..15.",
    response_class=StreamingResponse,
    responses={
        200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}}},
        **error_responses(404, 422),
    },
)
async def live_mjpeg(
    ctx: Context,
    request: Request,
    camera_id: CameraId,
    tenants: Scope,
    overlay: Overlay = True,
    fps: Fps = 5.0,
    width: Width = None,
) -> StreamingResponse:
    await run_in_threadpool(check_camera, ctx, camera_id, tenants)
    period = 1.0 / min(max(fps, MIN_FPS), MAX_FPS)

    guard = StreamGuard(request)

    async def parts() -> AsyncIterator[bytes]:
        last_frame_ms: int | None = None
        while not await request.is_disconnected() and await guard.still_allowed():
            began = time.monotonic()
            try:
                frame = await run_in_threadpool(
                    ctx.engine.live_jpeg, camera_id, overlay=overlay, max_width=width
                )
            except KeyError:  # the camera was removed while streaming
                return
            if frame is not None and frame[1] != last_frame_ms:
                jpeg, last_frame_ms = frame
                head = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(jpeg)}\r\n\r\n"
                )
                yield head.encode("ascii") + jpeg + b"\r\n"
            await asyncio.sleep(max(0.0, period - (time.monotonic() - began)))

    return StreamingResponse(
        parts(),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={**NO_STORE, "X-Accel-Buffering": "no"},
    )


@router.get(
    "/{camera_id}/stats",
    summary="Live counters of the camera's analytics modules",
    description='For example `{"line": {"crossing-1": {"person": {"in": 3, "out": 5}}}, '
    '"zone": {"sidewalk": {"occupancy": 2, "entries": 17}}}`.',
    responses=error_responses(404, 422),
)
def module_stats(ctx: Context, camera_id: CameraId, tenants: Scope) -> dict[str, Any]:
    check_camera(ctx, camera_id, tenants)
    try:
        return ctx.engine.module_stats(camera_id)
    except KeyError:
        raise HTTPException(404, f"camera {camera_id!r} is not running") from None
