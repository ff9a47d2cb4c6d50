"""Setting up cameras from the browser: try a camera URL before saving it (with a blurred
preview frame or the reason it failed) and check a camera's settings without applying them,
with every problem tied to the field it concerns.

Both go through the same code as the real thing: the probe opens the URL with the sources the
pipeline uses, and validation is `CameraConfig`, so what the editor accepts is exactly what the
config file and POST/PUT /api/cameras accept.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from vigil.api.access import tenant_scope, visible
from vigil.api.context import Context
from vigil.api.errors import error_responses
from vigil.api.redact import restore_url
from vigil.config import CameraConfig, PrivacyMaskConfig, VigilConfig
from vigil.privacy.masks import apply_masks
from vigil.privacy.redact import redact_faces
from vigil.sources.probe import ProblemKind, probe
from vigil.vision.faces import FaceDetector
from vigil.vision.overlay import encode_jpeg, fit_width

PREVIEW_WIDTH = 1280  # enough to draw on; a 4K frame as a data URL would be megabytes
Scope = Annotated[Collection[str] | None, Depends(tenant_scope)]
# "modules.line.min_crossing_frames: Input should be …" inside a model-level message.
_MODULE_FIELD = re.compile(r"(modules\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*): ")

router = APIRouter(prefix="/api/cameras", tags=["cameras"])


class ProbeIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048, description="The URL to try")
    camera_id: str | None = Field(
        None,
        description="An existing camera: a `url` equal to its masked URL (as GET returned it) "
        "is tried with the stored credentials",
    )
    privacy_masks: list[PrivacyMaskConfig] = Field(
        default_factory=list, description="Blacked out in the preview, as in live view"
    )
    timeout_s: float = Field(8.0, gt=0.0, le=15.0, description="Give up after this long")


class ProbeOut(BaseModel):
    ok: bool
    problem: ProblemKind | None = Field(
        description="Why it failed: auth, unreachable, refused, not_found, not_video, codec, "
        "policy; null when it worked"
    )
    message: str = Field(description="What happened, for people; credentials masked")
    width: int | None = None
    height: int | None = None
    nominal_fps: float | None = None
    preview: str | None = Field(
        None, description="The first frame, faces blurred, as a data:image/jpeg URL"
    )


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. zones.0.polygon; '' for all")
    message: str


class ValidationOut(BaseModel):
    valid: bool
    problems: list[FieldProblem]


@lru_cache(maxsize=2)
def face_detector(model: Path, threshold: float) -> FaceDetector:
    return FaceDetector(model, threshold)


def _preview(config: VigilConfig, frame: Any, masks: list[PrivacyMaskConfig]) -> str:
    """The frame as the live view would show it: masked, every face blurred, then encoded.
    Faces are blurred whatever privacy.blur_live says: this image is not live analysis."""
    apply_masks(frame, masks)
    image, _scale = fit_width(frame, PREVIEW_WIDTH)
    redact_faces(image, face_detector(config.privacy.face_model, config.privacy.face_threshold))
    return "data:image/jpeg;base64," + base64.b64encode(encode_jpeg(image, 80)).decode("ascii")


@router.post(
    "/probe",
    summary="Try a camera URL: a face-blurred first frame, or why it failed",
    description=(
        "Opens the URL with the same sources the pipeline uses, reads one frame and closes "
        "it; nothing is saved. A failure is a 200 with `ok: false`, the kind of problem and a "
        "message, so that a setup page can show it beside the URL field. The URL is held to "
        "the source policy as a camera's would be (problem `policy`, message 'refused by "
        "policy'); nothing it refuses is contacted."
    ),
    response_model=ProbeOut,
    responses=error_responses(404, 422),
)
async def probe_camera(ctx: Context, request: Request, body: ProbeIn, tenants: Scope) -> ProbeOut:
    url = body.url
    known: CameraConfig | None = None
    if body.camera_id is not None:
        stored = ctx.store.get_camera(body.camera_id, tenants)
        known = (
            stored.config
            if stored
            else next(
                (
                    c
                    for c in ctx.engine.cameras()
                    if c.id == body.camera_id and visible(c.tenant, tenants, c.id, "cameras")
                ),
                None,
            )
        )
        if known is not None:
            url = restore_url(url, known.url)
            if known.main_url:
                url = restore_url(url, known.main_url)
    # A probe opens what the tenant typed, so it is held to the source policy like the camera
    # would be; only a config-file camera's own URL (or main stream) is the administrator's.
    trusted = known is not None and ctx.sources.trusts(known.id, url)
    result = await run_in_threadpool(
        probe, url, timeout_s=body.timeout_s, policy=None if trusted else ctx.sources
    )
    if not result.ok or result.frame is None:
        return ProbeOut(ok=False, problem=result.problem, message=result.message)
    height, width = result.frame.shape[:2]
    config: VigilConfig = request.app.state.config
    preview = await run_in_threadpool(_preview, config, result.frame, body.privacy_masks)
    return ProbeOut(
        ok=True,
        problem=None,
        message=result.message,
        width=width,
        height=height,
        nominal_fps=result.nominal_fps,
        preview=preview,
    )


def field_problems(error: ValidationError) -> list[FieldProblem]:
    """pydantic's errors as (field, message) pairs the editor can put beside its inputs.
    Module settings are checked in a camera-level validator whose one message lists each
    `modules.<name>.<key>` at fault; they are split back into fields here."""
    problems: list[FieldProblem] = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting"
        parts = _MODULE_FIELD.split(message) if not field else [message]
        if len(parts) > 1:
            for index in range(1, len(parts), 2):
                problems.append(
                    FieldProblem(field=parts[index], message=parts[index + 1].rstrip("; "))
                )
            continue
        problems.append(FieldProblem(field=field, message=message))
    return problems


@router.post(
    "/validate",
    summary="Check a camera's settings without applying them",
    description=(
        "The body is a camera as for POST/PUT. The answer lists every problem with the "
        "field it concerns (`zones.0.polygon`, `lines.1.end`, `modules.line.classes` …), the "
        "same checks that POST/PUT and the config file apply."
    ),
    response_model=ValidationOut,
    responses=error_responses(422),
)
def validate_camera(body: Annotated[dict[str, Any], Body()]) -> ValidationOut:
    try:
        CameraConfig.model_validate(body)
    except ValidationError as error:
        return ValidationOut(valid=False, problems=field_problems(error))
    return ValidationOut(valid=True, problems=[])
