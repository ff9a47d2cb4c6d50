"""One settings model, loaded from YAML. Errors name the offending key and what was expected."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Point = tuple[float, float]
ROOT = Path(__file__).resolve().parents[2]
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConfigError(ValueError):
    """A configuration problem, already phrased for the person who wrote the file."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)


class StoreConfig(Strict):
    url: str = Field("sqlite:///data/vigil.db", description="SQLAlchemy URL of the event store")
    media_dir: Path = Field(Path("data/media"), description="Directory for face-blurred snapshots")
    batch_size: int = Field(500, ge=1, description="Events written per transaction at most")
    flush_ms: int = Field(200, ge=1, description="Longest wait before a partial batch is written")


class DetectorConfig(Strict):
    model: Path = Field(ROOT / "models" / "nanodet-m-416.onnx", description="ONNX model file")
    family: Literal["nanodet", "yolo"] = Field(
        "nanodet", description="Output decoder: bundled NanoDet, or Ultralytics-style YOLO export"
    )
    input_size: int = Field(416, ge=32, description="Square network input size in pixels")
    labels: list[str] | None = Field(
        None, description="Class names of a custom model; COCO when unset"
    )
    score_threshold: float = Field(0.35, gt=0.0, lt=1.0)
    nms_iou: float = Field(0.5, gt=0.0, le=1.0)
    classes: list[str] | None = Field(None, description="Keep only these classes (all when unset)")
    threads: int = Field(0, ge=0, description="onnxruntime intra-op threads; 0 = all cores")


class BatchingConfig(Strict):
    max_batch: int = Field(8, ge=1, le=256, description="Frames per inference call at most")
    max_wait_ms: float = Field(15.0, ge=0.0, description="Longest wait to fill a batch")
    queue_per_camera: int = Field(
        2, ge=1, description="Frames a camera may have waiting; older ones are dropped"
    )


class TrackerConfig(Strict):
    lost_track_buffer_s: float = Field(2.0, gt=0.0, description="Seconds a lost track is kept")
    activation_threshold: float = Field(
        0.4, gt=0.0, lt=1.0, description="Detection score that may start a new track"
    )
    minimum_consecutive_frames: int = Field(
        2, ge=1, description="Frames a new track must be seen before it is reported"
    )


class PrivacyConfig(Strict):
    face_model: Path = Field(ROOT / "models" / "centerface.onnx")
    face_threshold: float = Field(
        0.35, gt=0.0, lt=1.0, description="CenterFace score above which a region is blurred"
    )
    blur_live: bool = Field(True, description="Blur faces in live view too")


class ZoneConfig(Strict):
    name: str
    polygon: list[Point] = Field(description="Vertices in pixels of the camera image")
    classes: list[str] | None = None

    @field_validator("polygon")
    @classmethod
    def _enough_vertices(cls, value: list[Point]) -> list[Point]:
        if len(value) < 3:
            raise ValueError(f"a zone polygon needs at least 3 points, got {len(value)}")
        return value


class LineConfig(Strict):
    name: str
    start: Point
    end: Point
    classes: list[str] | None = None

    @model_validator(mode="after")
    def _not_degenerate(self) -> LineConfig:
        if self.start == self.end:
            raise ValueError("line start and end are the same point")
        return self


class CameraConfig(Strict):
    id: str = Field(description="Lower-case letters, digits, '-' and '_'; unique")
    name: str = ""
    tenant: str = "default"
    url: str = Field(description="rtsp://, http(s):// MJPEG or snapshot, a video file or an image")
    analysis_fps: float = Field(5.0, gt=0.0, le=60.0)
    loop: bool = Field(True, description="Replay a video file when it ends")
    start_offset_s: float = Field(0.0, ge=0.0, description="Start a video file this far in")
    enabled: bool = True
    zones: list[ZoneConfig] = Field(default_factory=list)
    lines: list[LineConfig] = Field(default_factory=list)
    modules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Analytics modules by name, each with its own settings"
    )

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                "use 1-64 lower-case letters, digits, '-' or '_', starting alphanumeric"
            )
        return value

    @model_validator(mode="after")
    def _check_geometry_and_modules(self) -> CameraConfig:
        from vigil.modules.registry import validate_module_settings

        self.name = self.name or self.id
        for kind, items in (("zone", self.zones), ("line", self.lines)):
            names = [item.name for item in items]
            if len(names) != len(set(names)):
                raise ValueError(f"{kind} names must be unique within a camera, got {names}")
        validate_module_settings(self)
        return self


class VigilConfig(Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    batching: BatchingConfig = Field(default_factory=BatchingConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    cameras: list[CameraConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_camera_ids(self) -> VigilConfig:
        ids = [camera.id for camera in self.cameras]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"camera ids must be unique; repeated: {', '.join(duplicates)}")
        return self


def format_validation_error(error: ValidationError, source: str) -> str:
    """Turn pydantic's report into one line per problem: `where: what (got …)`."""
    lines = [f"{source}: {error.error_count()} problem(s)"]
    for item in error.errors():
        where = ""
        for part in item["loc"]:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see docs/configuration.md)"
        got = item.get("input")
        quiet = item["type"] in ("missing", "extra_forbidden") or isinstance(got, dict)
        shown = "" if quiet else f" (got {got!r:.80})"
        lines.append(f"  {where or '<top level>'}: {message}{shown}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "config") -> VigilConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    try:
        return VigilConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, source)) from None


def parse_camera(data: Any, source: str = "camera") -> CameraConfig:
    try:
        return CameraConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, source)) from None


def load_config(path: Path | str) -> VigilConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    return parse_config(data, str(path))
