"""The site map: a floor plan uploaded by an administrator (works offline) or an XYZ tile
server, and each camera's place on it with its viewing direction and field of view.

Tiles are fetched by the server and served from this origin, so the browser still talks to
the Vigil API only (no request to another host, one Content-Security-Policy) and a site whose
browsers cannot reach the tile server can still use one the server reaches.
"""

from __future__ import annotations

import base64
import re
from collections import OrderedDict
from collections.abc import Collection
from threading import Lock
from typing import Annotated

import cv2
import httpx
import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from vigil.api.access import tenant_scope, visible
from vigil.api.context import AppContext, Context
from vigil.api.errors import error_responses
from vigil.api.params import CAMERA_ID_MAX, CAMERA_ID_PATTERN
from vigil.api.routes_setup import face_detector
from vigil.config import VigilConfig
from vigil.privacy.redact import redact_faces
from vigil.store import site
from vigil.vision.overlay import encode_jpeg

Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
CameraId = Annotated[
    str, Path(pattern=CAMERA_ID_PATTERN, max_length=CAMERA_ID_MAX, description="Camera id")
]
TenantParam = Annotated[
    str | None, Query(description="Whose map, for callers who see several tenants")
]
MAX_PLAN_SIDE = 8192
TILE_TIMEOUT_S = 5.0
TILE_CACHE_SIZE = 512
_TILE_URL = re.compile(r"^https?://[^\s]+$")

router = APIRouter(prefix="/api/site", tags=["site"])


class SiteSettingsIn(BaseModel):
    tile_url: str | None = Field(
        None,
        max_length=2048,
        description="XYZ tile URL template with {z}, {x} and {y}, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png; null: floor plan only",
    )
    center: tuple[float, float] | None = Field(None, description="[latitude, longitude]")
    zoom: float | None = Field(None, ge=0, le=22)

    @field_validator("tile_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _TILE_URL.match(value) or not all(k in value for k in ("{z}", "{x}", "{y}")):
            raise ValueError("must be an http(s) URL containing {z}, {x} and {y}")
        return value

    @field_validator("center")
    @classmethod
    def _on_earth(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (-90 <= value[0] <= 90 and -180 <= value[1] <= 180):
            raise ValueError("latitude must be within ±90 and longitude within ±180")
        return value


class PlaceIn(BaseModel):
    x: float = Field(description="Floor plan: pixels from the left; tile map: longitude")
    y: float = Field(description="Floor plan: pixels from the top; tile map: latitude")
    direction_deg: float = Field(
        0.0, ge=0.0, lt=360.0, description="Where the camera looks, clockwise from up/north"
    )
    fov_deg: float = Field(90.0, gt=0.0, le=360.0, description="Horizontal field of view")
    range: float = Field(
        50.0, gt=0.0, description="How far it sees: plan pixels, or metres on a tile map"
    )


class PlaceOut(PlaceIn):
    camera_id: str
    name: str


class SiteOut(BaseModel):
    tenant: str
    plan: bool = Field(description="A floor plan is uploaded (GET /api/site/plan)")
    width: int | None = Field(description="Floor plan width in pixels")
    height: int | None
    tile_url: str | None
    center: list[float] | None
    zoom: float | None
    places: list[PlaceOut]


def _tenant(tenants: Collection[str] | None, requested: str | None) -> str:
    """The one tenant whose map a call is about."""
    if requested is not None:
        if not visible(requested, tenants):
            raise HTTPException(404, f"no site map of tenant {requested!r}")
        return requested
    if tenants is None:
        return "default"
    if len(tenants) == 1:
        return next(iter(tenants))
    raise HTTPException(422, "tenant: you see several tenants; name one")


def _cameras(ctx: AppContext, tenants: Collection[str] | None) -> dict[str, tuple[str, str]]:
    """Visible cameras: id → (name, tenant)."""
    found = {s.config.id: (s.config.name, s.config.tenant) for s in ctx.store.list_cameras(tenants)}
    for camera in ctx.engine.cameras():
        if camera.id not in found and visible(camera.tenant, tenants, camera.id, "cameras"):
            found[camera.id] = (camera.name, camera.tenant)
    return found


def _site(ctx: AppContext, tenant: str, tenants: Collection[str] | None) -> SiteOut:
    stored = site.get_map(ctx.store.engine, tenant)
    cameras = _cameras(ctx, tenants)
    places = [
        PlaceOut(
            camera_id=p.camera_id,
            name=cameras[p.camera_id][0],
            x=p.x,
            y=p.y,
            direction_deg=p.direction_deg,
            fov_deg=p.fov_deg,
            range=p.range,
        )
        for p in site.list_places(ctx.store.engine, [tenant])
        if p.camera_id in cameras and visible(tenant, tenants, p.camera_id, "cameras")
    ]
    return SiteOut(
        tenant=tenant,
        plan=bool(stored and stored.image_type),
        width=stored.width if stored else None,
        height=stored.height if stored else None,
        tile_url=stored.tile_url if stored else None,
        center=stored.center if stored else None,
        zoom=stored.zoom if stored else None,
        places=places,
    )


@router.get(
    "",
    summary="The site map: floor plan, tile settings, camera places",
    response_model=SiteOut,
    responses=error_responses(404, 422),
)
def get_site(ctx: Context, tenants: Scope, tenant: TenantParam = None) -> SiteOut:
    return _site(ctx, _tenant(tenants, tenant), tenants)


def _prepare_plan(data: bytes, config: VigilConfig) -> tuple[bytes, tuple[int, int]]:
    """Decode, check and re-encode an uploaded plan. Re-encoding drops whatever else the
    file carried (metadata, scripts in an SVG-like payload); faces are blurred like in every
    image Vigil serves, should the "plan" be a photograph of a place with people in it."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise HTTPException(422, "image: not a PNG or JPEG image")
    height, width = image.shape[:2]
    if max(width, height) > MAX_PLAN_SIDE:
        raise HTTPException(422, f"image: the image is {width}×{height}; at most {MAX_PLAN_SIDE}")
    redact_faces(image, face_detector(config.privacy.face_model, config.privacy.face_threshold))
    return encode_jpeg(image, 90), (width, height)


class PlanIn(BaseModel):
    image: str = Field(
        min_length=1,
        description="The PNG or JPEG as a data: URL or plain base64 (JSON, because request "
        "bodies are text here; the whole request is at most 1 MB: the UI scales large plans "
        "down before sending)",
    )


@router.put(
    "/plan",
    summary="Upload the floor plan or site image (PNG or JPEG)",
    description="It replaces the previous plan; camera places are kept (in plan pixels).",
    response_model=SiteOut,
    responses=error_responses(404, 413, 422),
)
async def put_plan(
    ctx: Context, request: Request, body: PlanIn, tenants: Scope, tenant: TenantParam = None
) -> SiteOut:
    owner = _tenant(tenants, tenant)
    _head, _comma, payload = body.image.rpartition(",")
    try:
        data = base64.b64decode(payload, validate=True)
    except ValueError:  # binascii.Error, and non-ASCII text
        raise HTTPException(422, "image: not base64 (send a data: URL or base64 text)") from None
    jpeg, size = await run_in_threadpool(_prepare_plan, data, request.app.state.config)
    await run_in_threadpool(site.put_plan, ctx.store.engine, owner, jpeg, "image/jpeg", size)
    return _site(ctx, owner, tenants)


@router.delete(
    "/plan",
    summary="Remove the floor plan",
    response_model=SiteOut,
    responses=error_responses(404, 422),
)
def delete_plan(ctx: Context, tenants: Scope, tenant: TenantParam = None) -> SiteOut:
    owner = _tenant(tenants, tenant)
    site.put_plan(ctx.store.engine, owner, None, None, None)
    return _site(ctx, owner, tenants)


@router.get(
    "/plan",
    summary="The floor plan image",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **error_responses(404, 422)},
)
def get_plan(ctx: Context, tenants: Scope, tenant: TenantParam = None) -> Response:
    plan = site.get_plan(ctx.store.engine, _tenant(tenants, tenant))
    if plan is None:
        raise HTTPException(404, "no floor plan uploaded")
    return Response(plan[0], media_type=plan[1], headers={"Cache-Control": "no-cache"})


@router.put(
    "/settings",
    summary="Set the tile map URL, centre and zoom",
    response_model=SiteOut,
    responses=error_responses(404, 422),
)
def put_settings(
    ctx: Context, body: SiteSettingsIn, tenants: Scope, tenant: TenantParam = None
) -> SiteOut:
    owner = _tenant(tenants, tenant)
    center = list(body.center) if body.center else None
    site.put_settings(ctx.store.engine, owner, body.tile_url, center, body.zoom)
    return _site(ctx, owner, tenants)


class _TileCache:
    """Recently fetched tiles, so that panning back and forth does not refetch."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, value: tuple[bytes, str]) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_tiles = _TileCache(TILE_CACHE_SIZE)


def _fetch_tile(url: str) -> tuple[bytes, str]:
    try:
        response = httpx.get(url, timeout=TILE_TIMEOUT_S, headers={"User-Agent": "Vigil site map"})
    except httpx.HTTPError as error:
        raise HTTPException(502, f"the tile server cannot be reached: {error}") from None
    if response.status_code != 200:
        raise HTTPException(502, f"the tile server answered HTTP {response.status_code}")
    kind = response.headers.get("content-type", "").split(";")[0]
    if not kind.startswith("image/"):
        raise HTTPException(502, f"the tile server answered {kind or 'no content type'}")
    return response.content, kind


@router.get(
    "/tiles/{z}/{x}/{y}",
    summary="One map tile from the configured tile server, through this server",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **error_responses(404, 422, 502)},
)
async def tile(
    ctx: Context,
    tenants: Scope,
    z: Annotated[int, Path(ge=0, le=22)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    tenant: TenantParam = None,
) -> Response:
    stored = site.get_map(ctx.store.engine, _tenant(tenants, tenant))
    if stored is None or not stored.tile_url:
        raise HTTPException(404, "no tile server configured (PUT /api/site/settings)")
    if x >= 2**z or y >= 2**z:
        raise HTTPException(404, f"no tile {x},{y} at zoom {z}")
    url = stored.tile_url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    cached = _tiles.get(url)
    if cached is None:
        cached = await run_in_threadpool(_fetch_tile, url)
        _tiles.put(url, cached)
    return Response(cached[0], media_type=cached[1], headers={"Cache-Control": "max-age=3600"})


@router.put(
    "/cameras/{camera_id}",
    summary="Place a camera on the map",
    response_model=SiteOut,
    responses=error_responses(404, 422),
)
def put_place(ctx: Context, camera_id: CameraId, body: PlaceIn, tenants: Scope) -> SiteOut:
    camera = _cameras(ctx, tenants).get(camera_id)
    if camera is None:
        raise HTTPException(404, f"no camera with id {camera_id!r}")
    site.put_place(
        ctx.store.engine,
        site.Place(
            camera_id=camera_id,
            tenant=camera[1],
            x=body.x,
            y=body.y,
            direction_deg=body.direction_deg,
            fov_deg=body.fov_deg,
            range=body.range,
        ),
    )
    return _site(ctx, camera[1], tenants)


@router.delete(
    "/cameras/{camera_id}",
    summary="Take a camera off the map",
    response_model=SiteOut,
    responses=error_responses(404, 422),
)
def delete_place(ctx: Context, camera_id: CameraId, tenants: Scope) -> SiteOut:
    camera = _cameras(ctx, tenants).get(camera_id)
    if camera is None or not site.delete_place(ctx.store.engine, camera_id):
        raise HTTPException(404, f"camera {camera_id!r} is not on the map")
    return _site(ctx, camera[1], tenants)
