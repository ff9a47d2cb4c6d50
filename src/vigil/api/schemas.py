"""Response bodies of the API, as pydantic models so the OpenAPI document describes them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from vigil.config import (
    CalibrationConfig,
    CameraDetectorConfig,
    CameraPtzConfig,
    CameraRecordingConfig,
    CameraRetentionConfig,
    LineConfig,
    PrivacyMaskConfig,
    ZoneConfig,
)
from vigil.domain.events import Event


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
    cameras: int = Field(description="Cameras the pipeline runs")
    online: int = Field(description="Cameras currently delivering frames")


class CameraStatusOut(BaseModel):
    online: bool
    input_fps: float
    analysed_fps: float
    lag_ms: float
    dropped_frames: int
    reconnects: int
    last_error: str | None
    width: int | None
    height: int | None
    decoder: str | None = Field(
        None, description="With hardware_decode: the decoding path in use, and why not NVDEC"
    )
    recording: str = Field(
        "off", description="off, recording, or standby (events mode, between events)"
    )
    load_shed: bool = Field(
        False,
        description="The detector cannot keep up and this camera is analysed below its rate "
        "(lower `priority` cameras are slowed first)",
    )


class CameraOut(BaseModel):
    """A camera's settings (as accepted by POST/PUT, with credentials in `url` masked as '***')
    plus where it was declared and its live status."""

    id: str
    name: str
    tenant: str
    url: str = Field(description="Source URL; user, password and secret query values shown as ***")
    analysis_fps: float
    enabled: bool
    loop: bool
    start_offset_s: float
    zones: list[ZoneConfig]
    lines: list[LineConfig]
    modules: dict[str, dict[str, Any]]
    main_url: str | None = Field(
        None, description="Main stream for recording, credentials masked as in `url`"
    )
    privacy_masks: list[PrivacyMaskConfig] = Field(default_factory=list)
    calibration: CalibrationConfig | None = None
    retention: CameraRetentionConfig | None = None
    priority: int = Field(0, description="Load shedding order: higher keeps its rate longer")
    # Shown so that a client saving back what it was shown (the Cameras page) keeps them.
    recording: CameraRecordingConfig | None = None
    detector: CameraDetectorConfig | None = None
    hardware_decode: bool = False
    ptz: CameraPtzConfig | None = Field(
        None, description="PTZ settings; the ONVIF address's credentials masked as in `url`"
    )
    origin: Literal["config", "api"] = Field(
        description="'config': declared in the config file; 'api': added through this API"
    )
    status: CameraStatusOut


class EventPageOut(BaseModel):
    items: list[Event]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page"
    )


class CountRowOut(BaseModel):
    bucket_start: str = Field(description="Start of the bucket, ISO 8601 UTC")
    camera_id: str
    line: str | None
    zone: str | None
    class_name: str
    direction: str | None = Field(description="'in' or 'out' for line crossings, else null")
    count: int


class CountsOut(BaseModel):
    interval_s: int
    start: str
    end: str
    rows: list[CountRowOut]


class ModuleOut(BaseModel):
    name: str
    description: str
    settings_schema: dict[str, Any]
