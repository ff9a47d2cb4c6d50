"""Recordings: per-camera timelines, playback (frames, MJPEG at 1×/2×/4×, MP4 clips), event
clips and evidence export. Every picture is decrypted, decoded, masked, face-redacted and
re-encoded on the way out (vigil.recording.playback); nothing else leaves a recording.
Permissions, purposes and audit records: vigil.auth.policy (recording.* actions)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection, Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vigil.api.access import tenant_scope, visible
from vigil.api.context import AppContext, Context
from vigil.api.errors import error_responses
from vigil.api.params import (
    CAMERA_ID_MAX,
    CAMERA_ID_PATTERN,
    EVENT_ID_PATTERN,
    iso,
    parse_time,
    time_range,
)
from vigil.auth.deps import require_principal
from vigil.config import PrivacyMaskConfig, VigilConfig
from vigil.domain.frames import now_ms
from vigil.privacy.audit import audit
from vigil.privacy.retention import CaseStore
from vigil.recording import MAX_CLIP_MS
from vigil.recording.archive import RecordingArchive
from vigil.recording.export import EXPORT_ACTION, lookup, manifest, sha256_hex
from vigil.recording.keywrap import KeyWrap
from vigil.recording.locks import CLIP_PAD_MS, lock_range
from vigil.store.query import EventQuery, QueryError
from vigil.vision.faces import FaceDetector
from vigil.vision.overlay import encode_jpeg

router = APIRouter(tags=["recordings"])

CameraId = Annotated[
    str, Path(pattern=CAMERA_ID_PATTERN, max_length=CAMERA_ID_MAX, description="Camera id")
]
EventId = Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="Event id")]
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
Width = Annotated[
    int | None, Query(ge=16, le=4096, description="Scale down to at most this width in pixels")
]
NO_STORE = {"Cache-Control": "no-store"}
BOUNDARY = "vigil-frame"
DAY_MS = 86_400_000
TIMELINE_EVENTS = 1000


def archive(request: Request) -> RecordingArchive:
    """One archive per app, built on first use with the engine's face detector when this
    process runs cameras, else its own (an API node of a cluster)."""
    state = request.app.state
    found: RecordingArchive | None = getattr(state, "recording_archive", None)
    if found is None:
        ctx: AppContext = state.context
        redactor = getattr(ctx.engine, "redactor", None)
        faces = getattr(redactor, "detector", None)
        if not isinstance(faces, FaceDetector):
            config: VigilConfig = state.config
            faces = FaceDetector(config.privacy.face_model, config.privacy.face_threshold)
        secrets = ctx.store.secrets
        wrap = (
            KeyWrap.from_secrets(secrets)
            if secrets is not None
            else KeyWrap.from_config(state.config)
        )
        found = RecordingArchive(ctx.store.engine, ctx.media, faces, wrap)
        state.recording_archive = found
    return found


Archive = Annotated[RecordingArchive, Depends(archive)]


def camera_masks(
    ctx: AppContext, camera_id: str, tenants: Collection[str] | None
) -> tuple[str, list[PrivacyMaskConfig]]:
    """The camera's tenant and privacy masks; 404 when the caller may not see its media."""
    stored = ctx.store.get_camera(camera_id, tenants)
    if stored is None or not visible(stored.config.tenant, tenants, camera_id, "media"):
        raise HTTPException(404, f"camera {camera_id!r} not found")
    return stored.config.tenant, stored.config.privacy_masks


class RangeOut(BaseModel):
    start: str
    end: str


class MarkerOut(BaseModel):
    id: str
    type: str
    module: str
    start: str
    end: str | None


class TimelineOut(BaseModel):
    camera_id: str
    start: str
    end: str
    recorded: list[RangeOut] = Field(description="Recorded ranges; what lies between is a gap")
    events: list[MarkerOut]


@router.get(
    "/api/recordings/{camera_id}/timeline",
    summary="Recorded ranges, gaps and events of one camera",
    description="The range defaults to the last 24 hours and spans at most 31 days.",
    response_model=TimelineOut,
    responses=error_responses(404, 422),
)
def timeline(
    ctx: Context,
    store: Archive,
    camera_id: CameraId,
    tenants: Scope,
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
) -> TimelineOut:
    camera_masks(ctx, camera_id, tenants)
    start_ms, end_ms = time_range(start, end, default_span_ms=DAY_MS, now_ms=now_ms())
    assert start_ms is not None and end_ms is not None
    if end_ms - start_ms > 31 * DAY_MS:
        raise QueryError("start", "a timeline spans at most 31 days")
    ranges = store.timeline(camera_id, start_ms, end_ms, tenants)
    events = ctx.store.query_events(
        EventQuery(
            tenants=tenants,
            camera_ids=[camera_id],
            start_ms=start_ms,
            end_ms=end_ms,
            limit=TIMELINE_EVENTS,
        )
    ).items
    return TimelineOut(
        camera_id=camera_id,
        start=iso(start_ms) or "",
        end=iso(end_ms) or "",
        recorded=[RangeOut(start=iso(r.start_ms) or "", end=iso(r.end_ms) or "") for r in ranges],
        events=[
            MarkerOut(
                id=e.id,
                type=e.type,
                module=e.module,
                start=iso(e.start_ms) or "",
                end=iso(e.end_ms),
            )
            for e in sorted(events, key=lambda e: e.start_ms)
        ],
    )


@router.get(
    "/api/recordings/{camera_id}/frame.jpg",
    summary="One recorded frame at or after a moment (faces blurred)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **error_responses(404, 422)},
)
def frame_jpeg(
    ctx: Context,
    store: Archive,
    camera_id: CameraId,
    tenants: Scope,
    at: Annotated[str, Query(description="ISO 8601")],
    width: Width = None,
) -> Response:
    _tenant, masks = camera_masks(ctx, camera_id, tenants)
    at_ms = parse_time(at, "at")
    assert at_ms is not None
    rows = store.segments(camera_id, at_ms, at_ms + 60_000, tenants)
    for frame in store.playback.frames(rows, at_ms, at_ms + 60_000, masks, max_width=width):
        headers = {**NO_STORE, "X-Vigil-Frame-Time": iso(frame.ts_ms) or ""}
        return Response(encode_jpeg(frame.image, 80), media_type="image/jpeg", headers=headers)
    raise HTTPException(404, f"nothing recorded on camera {camera_id!r} in the minute from {at}")


@router.get(
    "/api/recordings/{camera_id}/play.mjpeg",
    summary="Play a recording from a moment as MJPEG (faces blurred), at 1×, 2× or 4×",
    description="multipart/x-mixed-replace, paced at the chosen speed; each part carries "
    "its recorded time in `X-Vigil-Frame-Time`. Gaps are skipped.",
    response_class=StreamingResponse,
    responses={
        200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}}},
        **error_responses(404, 422),
    },
)
async def play_mjpeg(
    request: Request,
    ctx: Context,
    store: Archive,
    camera_id: CameraId,
    tenants: Scope,
    start: Annotated[str, Query(description="ISO 8601")],
    speed: Annotated[int, Query(description="1, 2 or 4")] = 1,
    fps: Annotated[float, Query(gt=0, le=25, description="Frames per second at most")] = 10.0,
    width: Width = 960,
) -> StreamingResponse:
    if speed not in (1, 2, 4):
        raise QueryError("speed", f"must be 1, 2 or 4, got {speed}")
    _tenant, masks = await run_in_threadpool(camera_masks, ctx, camera_id, tenants)
    start_ms = parse_time(start, "start")
    assert start_ms is not None
    # Frames are taken `speed / fps` seconds of recording apart and shown `1 / fps` apart.
    step_ms = int(1000 * speed / fps)

    def frames() -> Iterator[tuple[int, bytes]]:
        cursor = start_ms
        while True:
            # The next few segments, however far a gap puts them (within a day).
            rows = store.index.between(camera_id, cursor, cursor + DAY_MS, tenants, limit=8)
            if not rows:
                return
            last = cursor
            for frame in store.playback.frames(
                rows, cursor, rows[-1].end_ms, masks, step_ms=step_ms, max_width=width
            ):
                last = frame.ts_ms
                yield frame.ts_ms, encode_jpeg(frame.image, 75)
            cursor = max(last + step_ms, rows[-1].end_ms)

    source = frames()

    async def parts() -> AsyncIterator[bytes]:
        previous: int | None = None
        shown = time.monotonic()
        while not await request.is_disconnected():
            item = await run_in_threadpool(next, source, None)
            if item is None:
                return
            ts_ms, jpeg = item
            if previous is not None:  # real pacing, gaps compressed to one frame interval
                wait = min((ts_ms - previous) / 1000 / speed, 1 / fps) - (time.monotonic() - shown)
                await asyncio.sleep(max(0.0, wait))
            previous, shown = ts_ms, time.monotonic()
            head = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
                f"X-Vigil-Frame-Time: {iso(ts_ms)}\r\n\r\n"
            )
            yield head.encode("ascii") + jpeg + b"\r\n"

    return StreamingResponse(
        parts(),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={**NO_STORE, "X-Accel-Buffering": "no"},
    )


def _clip_response(data: bytes, name: str, download: bool) -> Response:
    disposition = "attachment" if download else "inline"
    return Response(
        data,
        media_type="video/mp4",
        headers={
            **NO_STORE,
            "Content-Disposition": f'{disposition}; filename="{name}"',
        },
    )


@router.get(
    "/api/recordings/{camera_id}/clip.mp4",
    summary="A recorded range as an H.264 MP4 (faces blurred), at most 10 minutes",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {}}}, **error_responses(404, 422)},
)
def range_clip(
    ctx: Context,
    store: Archive,
    camera_id: CameraId,
    tenants: Scope,
    start: Annotated[str, Query(description="ISO 8601, inclusive")],
    end: Annotated[str, Query(description="ISO 8601, exclusive")],
    width: Width = None,
    download: bool = False,
) -> Response:
    _tenant, masks = camera_masks(ctx, camera_id, tenants)
    start_ms, end_ms = _bounded(start, end)
    rows = store.segments(camera_id, start_ms, end_ms, tenants)
    clip = store.clip(rows, start_ms, end_ms, masks, max_width=width)
    if not clip.frames:
        raise HTTPException(404, f"nothing recorded on camera {camera_id!r} in that range")
    return _clip_response(clip.data, f"{camera_id}-{start_ms}.mp4", download)


@router.get(
    "/api/events/{event_id}/clip",
    summary="The event's clip: 5 s before its start to 5 s after its end (faces blurred)",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {}}}, **error_responses(404, 422)},
)
def event_clip(
    ctx: Context,
    store: Archive,
    event_id: EventId,
    tenants: Scope,
    width: Width = None,
    download: bool = False,
) -> Response:
    event = ctx.store.get_event(event_id, tenants)
    if event is None:
        raise HTTPException(404, f"event {event_id!r} not found")
    _tenant, masks = camera_masks(ctx, event.camera_id, tenants)
    start_ms = event.start_ms - CLIP_PAD_MS
    end_ms = min(event.end_ms or event.updated_ms, event.start_ms + MAX_CLIP_MS) + CLIP_PAD_MS
    rows = store.segments(event.camera_id, start_ms, end_ms, tenants)
    clip = store.clip(rows, start_ms, end_ms, masks, max_width=width)
    if not clip.frames:
        raise HTTPException(404, f"event {event_id!r} has no recording")
    return _clip_response(clip.data, f"event-{event_id}.mp4", download)


class ExportIn(BaseModel):
    start: str = Field(description="ISO 8601, inclusive")
    end: str = Field(description="ISO 8601, exclusive; at most 10 minutes after start")
    case_id: str | None = Field(
        None, max_length=36, description="Keep the range under this case's evidence lock"
    )


@router.post(
    "/api/recordings/{camera_id}/export",
    summary="Export a range as evidence: a face-blurred H.264 MP4 whose SHA-256 is audited",
    description="The response is the MP4; `X-Vigil-SHA256` is its hash, and "
    "`GET /api/recordings/exports/{sha256}` (or `vigil export verify FILE`) returns the "
    "manifest the audit log recorded: camera, range, user, purpose, case, hash.",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {}}}, **error_responses(404, 422)},
)
def export_range(
    request: Request,
    ctx: Context,
    store: Archive,
    camera_id: CameraId,
    tenants: Scope,
    body: ExportIn,
) -> Response:
    principal = require_principal(request)
    tenant, masks = camera_masks(ctx, camera_id, tenants)
    start_ms, end_ms = _bounded(body.start, body.end)
    if body.case_id is not None:
        case = CaseStore(ctx.store.engine).get(body.case_id, [tenant])
        if case is None or case.released_ms is not None:
            raise QueryError("case_id", f"no open case {body.case_id!r} in your tenant")
        lock_range(ctx.store.engine, case.id, tenant, camera_id, start_ms, end_ms)
    rows = store.segments(camera_id, start_ms, end_ms, tenants)
    clip = store.clip(rows, start_ms, end_ms, masks)
    if not clip.frames:
        raise HTTPException(404, f"nothing recorded on camera {camera_id!r} in that range")
    digest = sha256_hex(clip.data)
    record = manifest(
        camera_id=camera_id,
        tenant=tenant,
        start=iso(start_ms) or "",
        end=iso(end_ms) or "",
        user=principal.actor,
        purpose=getattr(request.state, "purpose", "") or "",
        case_id=body.case_id,
        sha256=digest,
        size=len(clip.data),
        frames=clip.frames,
    )
    audit(request, EXPORT_ACTION, tenant=tenant, target=f"sha256:{digest}", details=record)
    response = _clip_response(clip.data, f"{camera_id}-{start_ms}-evidence.mp4", True)
    response.headers["X-Vigil-SHA256"] = digest
    return response


@router.get(
    "/api/recordings/exports/{sha256}",
    summary="The manifest of an export, from the audit log, by the file's SHA-256",
    responses=error_responses(404, 422),
)
def export_manifest(
    request: Request,
    ctx: Context,
    sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    tenants: Scope,
) -> dict[str, object]:
    record = lookup(ctx.store.engine, sha256)
    if record is None or not visible(record["tenant"] or "", tenants):
        raise HTTPException(404, "no export with that SHA-256 in your tenant")
    return {"seq": record["seq"], "exported": iso(record["ts_ms"]), "manifest": record["details"]}


class UsageOut(BaseModel):
    tenant: str
    used_bytes: int | None = Field(description="At the last retention run; None before one")
    quota_bytes: int | None
    near_quota: bool = Field(description="At or above recording.warn_ratio of the quota")


@router.get(
    "/api/recordings/usage",
    summary="Your tenant's recorded bytes against its quota",
    response_model=UsageOut,
    responses=error_responses(403),
)
def usage(request: Request) -> UsageOut:
    principal = require_principal(request)
    if principal.tenant is None:
        raise HTTPException(403, "this belongs to a tenant; log in as one of its users")
    config: VigilConfig = request.app.state.config
    retention = getattr(request.app.state, "retention", None)
    report = getattr(getattr(retention, "recordings", None), "last_report", None)
    quota_mb = config.recording.quota_mb_per_tenant
    return UsageOut(
        tenant=principal.tenant,
        used_bytes=None if report is None else report.usage.get(principal.tenant, 0),
        quota_bytes=None if quota_mb is None else int(quota_mb * 1024 * 1024),
        near_quota=report is not None and principal.tenant in report.warned,
    )


def _bounded(start: str, end: str) -> tuple[int, int]:
    start_ms, end_ms = time_range(start, end, default_span_ms=None, now_ms=now_ms())
    assert start_ms is not None and end_ms is not None
    if end_ms - start_ms > MAX_CLIP_MS:
        raise QueryError("end", "a clip or export spans at most 10 minutes")
    if end_ms == start_ms:
        raise QueryError("end", "must be after start")
    return start_ms, end_ms
