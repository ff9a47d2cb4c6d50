"""Activity heatmap of a camera: the `heatmap` module's grid as JSON, or drawn as a PNG.

The PNG can be blended over the camera's latest frame as the engine serves it for live view,
faces blurred; if live blurring is switched off on this server the frame is never used and the
grid is drawn alone. The API reaches the module only through `EngineControl.module_stats`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

import cv2
import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response

from vigil.api.access import tenant_scope, visible
from vigil.api.context import AppContext, Config, Context
from vigil.api.errors import error_responses
from vigil.api.params import CAMERA_ID_MAX, CAMERA_ID_PATTERN
from vigil.vision.heatmap import render_heatmap

CameraId = Annotated[
    str, Path(pattern=CAMERA_ID_PATTERN, max_length=CAMERA_ID_MAX, description="Camera id")
]
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
Width = Annotated[int, Query(ge=16, le=4096, description="Image width in pixels at most")]
Background = Annotated[
    bool, Query(description="Blend over the latest frame (faces blurred) instead of plain")
]
NO_STORE = {"Cache-Control": "no-store"}
MODULE = "heatmap"


router = APIRouter(prefix="/api/cameras", tags=["live"])


def camera_tenant(ctx: AppContext, camera_id: str, tenants: Collection[str] | None) -> str:
    for camera in ctx.engine.cameras():
        if camera.id == camera_id and visible(camera.tenant, tenants, camera_id, "stats"):
            return camera.tenant
    raise HTTPException(404, f"camera {camera_id!r} is not running")


def heatmap_stats(
    ctx: AppContext, camera_id: str, tenants: Collection[str] | None
) -> dict[str, Any]:
    camera_tenant(ctx, camera_id, tenants)
    try:
        stats = ctx.engine.module_stats(camera_id)
    except KeyError:
        raise HTTPException(404, f"camera {camera_id!r} is not running") from None
    grid = stats.get(MODULE)
    if not grid:
        raise HTTPException(
            404,
            f"the heatmap module is not enabled on camera {camera_id!r} "
            "(add `heatmap: {}` to its modules)",
        )
    return dict(grid)


@router.get(
    "/{camera_id}/heatmap",
    summary="Activity heatmap grid of a camera",
    description="Object-seconds per grid cell (rows × cols, row 0 at the top of the image), "
    "where tracked objects stood, fading with the module's half-life.",
    responses=error_responses(404, 422),
)
def heatmap_json(ctx: Context, camera_id: CameraId, tenants: Scope) -> dict[str, Any]:
    return heatmap_stats(ctx, camera_id, tenants)


@router.get(
    "/{camera_id}/heatmap.png",
    summary="Activity heatmap of a camera as a PNG image",
    description="Colour-mapped (blue = little, red = most activity). With `background` "
    "(default) blended over the latest analysed frame, faces blurred; drawn alone when the "
    "camera has no frame yet, the caller may not watch live view, or live blurring is off "
    "on this server. The header "
    "`X-Heatmap-Background` says which (`live` or `none`).",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "PNG image"},
        **error_responses(404, 422),
    },
)
def heatmap_png(
    ctx: Context,
    config: Config,
    camera_id: CameraId,
    tenants: Scope,
    background: Background = True,
    width: Width = 640,
) -> Response:
    stats = heatmap_stats(ctx, camera_id, tenants)
    grid = np.asarray(stats["grid"], dtype=np.float32)
    # The live frame only for callers who may watch live view, and only when it is blurred.
    sees_live = visible(camera_tenant(ctx, camera_id, tenants), tenants, camera_id, "live")
    blurred = config.privacy.blur_live
    frame = live_frame(ctx, camera_id, width) if background and blurred and sees_live else None
    if frame is not None:
        size = (frame.shape[1], frame.shape[0])
    else:
        frame_w, frame_h = stats.get("frame_size") or (grid.shape[1], grid.shape[0])
        size = (width, max(1, round(width * frame_h / frame_w)))
    image = render_heatmap(grid, size, frame)
    ok, png = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit BGR image
        raise HTTPException(500, "could not encode the heatmap")
    headers = {**NO_STORE, "X-Heatmap-Background": "live" if frame is not None else "none"}
    return Response(png.tobytes(), media_type="image/png", headers=headers)


def live_frame(ctx: AppContext, camera_id: str, width: int) -> np.ndarray | None:
    try:
        live = ctx.engine.live_jpeg(camera_id, overlay=False, max_width=width)
    except KeyError:
        raise HTTPException(404, f"camera {camera_id!r} is not running") from None
    if live is None:
        return None
    image = cv2.imdecode(np.frombuffer(live[0], np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None
