"""Camera management: list, inspect, add, change and remove cameras at run time.

Every change goes to the running pipeline first (so a camera it rejects is never persisted)
and then to the store, so API-added cameras come back after a restart.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response

from vigil.api.access import tenant_scope, visible
from vigil.api.camera_changes import apply_camera
from vigil.api.context import AppContext, Context, Ptz
from vigil.api.errors import error_responses
from vigil.api.params import CAMERA_ID_MAX, CAMERA_ID_PATTERN
from vigil.api.redact import redact_ptz, redact_url, restore_ptz, restore_url
from vigil.api.schemas import CameraOut, CameraStatusOut
from vigil.api.source_check import source_refusal
from vigil.config import CameraConfig
from vigil.domain import namespaces
from vigil.domain.frames import CameraStatus
from vigil.store.cameras import Origin

CameraId = Annotated[
    str, Path(pattern=CAMERA_ID_PATTERN, max_length=CAMERA_ID_MAX, description="Camera id")
]
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]


def status_out(camera_status: CameraStatus | None) -> CameraStatusOut:
    if camera_status is None:  # declared but not running (disabled, or being restarted)
        return CameraStatusOut(
            online=False,
            input_fps=0.0,
            analysed_fps=0.0,
            lag_ms=0.0,
            dropped_frames=0,
            reconnects=0,
            last_error=None,
            width=None,
            height=None,
        )
    return CameraStatusOut(
        online=camera_status.online,
        input_fps=camera_status.input_fps,
        analysed_fps=camera_status.analysed_fps,
        lag_ms=camera_status.lag_ms,
        dropped_frames=camera_status.dropped_frames,
        reconnects=camera_status.reconnects,
        last_error=camera_status.last_error,
        width=camera_status.width,
        height=camera_status.height,
        decoder=camera_status.decoder,
        recording=camera_status.recording,
        load_shed=camera_status.load_shed,
    )


def camera_out(
    camera: CameraConfig, origin: Origin, camera_status: CameraStatus | None
) -> CameraOut:
    return CameraOut(
        **camera.model_dump(exclude={"url", "main_url", "ptz"}),
        url=redact_url(camera.url),
        ptz=redact_ptz(camera.ptz),
        main_url=redact_url(camera.main_url) if camera.main_url else None,
        origin=origin,
        status=status_out(camera_status),
    )


router = APIRouter(prefix="/api/cameras", tags=["cameras"])


def known(
    ctx: AppContext, tenants: Collection[str] | None
) -> dict[str, tuple[CameraConfig, Origin]]:
    """Running cameras in the engine's order, then stored ones it does not run (disabled).
    A running camera the store does not know was handed to the engine by its owner, like
    the config file's cameras."""
    stored = {s.config.id: s for s in ctx.store.list_cameras(tenants)}
    result: dict[str, tuple[CameraConfig, Origin]] = {}
    for camera in ctx.engine.cameras():
        if visible(camera.tenant, tenants, camera.id, "cameras"):
            entry = stored.pop(camera.id, None)
            result[camera.id] = (camera, entry.origin if entry else "config")
    for camera_id, entry in stored.items():
        result[camera_id] = (entry.config, entry.origin)
    return result


def find(
    ctx: AppContext, camera_id: str, tenants: Collection[str] | None
) -> tuple[CameraConfig, Origin]:
    stored = ctx.store.get_camera(camera_id, tenants)
    if stored is not None:
        return stored.config, stored.origin
    for camera in ctx.engine.cameras():
        if camera.id == camera_id and visible(camera.tenant, tenants, camera.id, "cameras"):
            return camera, "config"
    raise HTTPException(404, f"no camera with id {camera_id!r}")


def running(ctx: AppContext, camera_id: str) -> bool:
    return any(camera.id == camera_id for camera in ctx.engine.cameras())


def in_namespace(camera: CameraConfig) -> CameraConfig:
    """The camera with its id in its tenant's namespace: 'gate' posted for tenant acme is
    'acme:gate'. An id in another tenant's namespace is a 422 naming `body.id`; the answer
    depends only on the request, so whether another tenant has a camera never shows."""
    try:
        camera_id = namespaces.qualify(camera.id, camera.tenant, "camera", "id")
    except namespaces.NamespaceError as error:
        raise HTTPException(422, f"body.id: {error}") from None
    return camera if camera_id == camera.id else camera.model_copy(update={"id": camera_id})


def check_source(ctx: AppContext, camera: CameraConfig) -> None:
    """422 for a URL the source policy refuses, before anything is started or stored."""
    refused = source_refusal(ctx.sources, camera)
    if refused is not None:
        raise HTTPException(422, f"body.{refused[0]}: {refused[1]}")


@router.get("", summary="List cameras with their live status", response_model=list[CameraOut])
def list_cameras(ctx: Context, tenants: Scope) -> list[CameraOut]:
    return [
        camera_out(camera, origin, ctx.engine.status(camera_id))
        for camera_id, (camera, origin) in known(ctx, tenants).items()
    ]


@router.post(
    "",
    summary="Add a camera and start analysing it",
    status_code=201,
    response_model=CameraOut,
    responses=error_responses(409, 413, 422),
)
def add_camera(ctx: Context, camera: CameraConfig, response: Response, tenants: Scope) -> CameraOut:
    if not visible(camera.tenant, tenants):
        raise HTTPException(403, f"tenant {camera.tenant!r} is not yours")
    camera = in_namespace(camera)
    if camera.id in known(ctx, None):
        raise HTTPException(409, f"camera {camera.id!r} already exists")
    check_source(ctx, camera)
    try:
        if camera.enabled:  # a disabled camera is kept but not run, as at start
            ctx.engine.add_camera(camera)
    except KeyError:
        raise HTTPException(409, f"camera {camera.id!r} already exists") from None
    ctx.store.put_camera(camera, "api")
    response.headers["Location"] = f"/api/cameras/{camera.id}"
    return camera_out(camera, "api", ctx.engine.status(camera.id))


@router.get(
    "/{camera_id}",
    summary="One camera with its live status",
    response_model=CameraOut,
    responses=error_responses(404, 422),
)
def get_camera(ctx: Context, camera_id: CameraId, tenants: Scope) -> CameraOut:
    camera, origin = find(ctx, camera_id, tenants)
    return camera_out(camera, origin, ctx.engine.status(camera_id))


@router.put(
    "/{camera_id}",
    summary="Replace a camera's settings and restart its analysis",
    description=(
        "The body is a full camera config, as for POST. A `url` equal to the masked one "
        "that GET returned keeps the stored credentials. Changes to a camera declared in "
        "the config file apply until the next start, when the file wins again."
    ),
    response_model=CameraOut,
    responses=error_responses(404, 413, 422),
)
def replace_camera(
    ctx: Context, ptz: Ptz, camera_id: CameraId, camera: CameraConfig, tenants: Scope
) -> CameraOut:
    if camera.id != camera_id:
        camera = in_namespace(camera)  # a bare id names the camera of the body's tenant
    if camera.id != camera_id:
        raise HTTPException(
            422,
            f"id: the body's id {camera.id!r} differs from the path's {camera_id!r}",
        )
    current, origin = find(ctx, camera_id, tenants)
    if not visible(camera.tenant, tenants):
        raise HTTPException(403, f"tenant {camera.tenant!r} is not yours")
    if camera.tenant != current.tenant:
        # A camera stored before the namespaces keeps its bare id while it stays where it is.
        misplaced = namespaces.misplaced(camera.id, camera.tenant, "camera", "id")
        if misplaced:
            raise HTTPException(422, f"body.id: {misplaced}; add it anew to move it")
    main_url = camera.main_url
    if main_url and current.main_url:
        main_url = restore_url(main_url, current.main_url)
    camera = camera.model_copy(
        update={
            "url": restore_url(camera.url, current.url),
            "main_url": main_url,
            "ptz": restore_ptz(camera.ptz, current.ptz),
        }
    )
    check_source(ctx, camera)
    apply_camera(ctx, ptz, camera, origin)
    return camera_out(camera, origin, ctx.engine.status(camera_id))


@router.delete(
    "/{camera_id}",
    summary="Stop analysing a camera and forget it",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 409, 422),
)
def delete_camera(ctx: Context, ptz: Ptz, camera_id: CameraId, tenants: Scope) -> Response:
    _camera, origin = find(ctx, camera_id, tenants)
    if origin == "config":
        raise HTTPException(
            409,
            f"camera {camera_id!r} is declared in the config file; remove it there",
        )
    if running(ctx, camera_id):
        ctx.engine.remove_camera(camera_id)
    ctx.store.delete_camera(camera_id)
    ptz.forget(camera_id)  # a pending return home must not move a camera nobody manages now
    return Response(status_code=204)
