"""One settings model, loaded from YAML. Errors name the offending key and what was expected."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from vigil import module_checks
from vigil.alerts.config import AlertsConfig
from vigil.domain import namespaces
from vigil.domain.geometry import check_calibration
from vigil.domain.schedule import check_timezone
from vigil.text import check_label

# Pixel coordinates may lie outside the image (a line drawn to the frame's edge and beyond),
# but not absurdly far: beyond this bound a number is a typo or an attack on the geometry code.
COORDINATE_LIMIT = 100_000.0
Coordinate = Annotated[float, Field(ge=-COORDINATE_LIMIT, le=COORDINATE_LIMIT)]
Point = tuple[Coordinate, Coordinate]
# Ground points are metres on a map; a city is tens of kilometres across.
Metres = Annotated[float, Field(ge=-10_000_000.0, le=10_000_000.0)]
GroundPoint = tuple[Metres, Metres]
URL_MAX_LENGTH = 2048
# Names shown in the UI, logs and CSV: printable, bounded.
Label = Annotated[str, Field(max_length=200), AfterValidator(check_label)]

ROOT = Path(__file__).resolve().parents[2]


# Upper bounds of admin-only numbers: far above any real installation, low enough that a
# typo (an extra digit, a value in the wrong unit) is refused instead of overflowing a timer,
# a queue or a date computation.
MAX_INPUT_SIZE = 4096
MAX_EVENTS_DAYS = 36_500.0  # 100 years, as a tenant's override (privacy.retention)
MAX_MEDIA_HOURS = 876_000.0
MAX_QUOTA_MB = 1_000_000_000.0  # a petabyte


class ConfigError(ValueError):
    """A configuration problem, already phrased for the person who wrote the file."""


class Strict(BaseModel):
    # NaN and infinities are never a meaningful setting and break comparisons downstream.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ServerConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    timezone: str | None = Field(
        None,
        max_length=64,
        description="IANA zone for search captions and for queries that name no zone "
        "(\"this morning\"); unset: $VIGIL_TIMEZONE, else UTC",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class S3Config(Strict):
    """The S3-compatible object store of `store.media_url`."""

    endpoint: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="S3 API address, e.g. http://127.0.0.1:8333 (SeaweedFS, MinIO); unset = AWS",
    )
    region: str = Field("us-east-1", min_length=1, description="Region of the bucket")
    access_key: str | None = Field(
        None,
        min_length=1,
        description="Access key id; default from the AWS_ACCESS_KEY_ID "
        "environment variable (boto3's usual chain)",
    )
    secret_key: str | None = Field(
        None,
        min_length=1,
        description="Secret access key; default from the "
        "AWS_SECRET_ACCESS_KEY environment variable (boto3's usual chain)",
    )

    @model_validator(mode="after")
    def _keys_together(self) -> S3Config:
        if (self.access_key is None) != (self.secret_key is None):
            raise ValueError("access_key and secret_key go together")
        return self


class StoreConfig(Strict):
    url: str = Field("sqlite:///data/vigil.db", description="SQLAlchemy URL of the event store")
    media_dir: Path = Field(Path("data/media"), description="Directory for face-blurred snapshots")
    batch_size: int = Field(
        500, ge=1, le=100_000, description="Events written per transaction at most"
    )
    flush_ms: int = Field(
        200, ge=1, le=60_000, description="Longest wait before a partial batch is written"
    )
    media_url: str | None = Field(
        None,
        description="s3://bucket[/prefix] to keep snapshots in an S3-compatible store; "
        "unset = media_dir",
    )
    s3: S3Config = Field(default_factory=S3Config)

    @field_validator("media_url")
    @classmethod
    def _s3_media_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("s3://"):
            raise ValueError("not an S3 URL; expected s3://bucket or s3://bucket/prefix")
        bucket, _, prefix = value.removeprefix("s3://").partition("/")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) or ".." in bucket:
            raise ValueError(
                f"bucket {bucket!r} is not an S3 bucket name: 3-63 characters of a-z 0-9 . -, "
                "starting and ending with a letter or digit"
            )
        prefix = prefix.strip("/")
        if prefix and (
            not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", prefix)
            or ".." in prefix
            or "." in prefix.split("/")
        ):
            raise ValueError(
                f"prefix {prefix!r} may use A-Z a-z 0-9 . _ - and single '/' separators, "
                "with no '.' or '..'"
            )
        return value


class DetectorConfig(Strict):
    model: Path = Field(ROOT / "models" / "nanodet-m-416.onnx", description="ONNX model file")
    family: Literal["nanodet", "yolo"] = Field(
        "nanodet", description="Output decoder: bundled NanoDet, or Ultralytics-style YOLO export"
    )
    input_size: int = Field(
        416, ge=32, le=MAX_INPUT_SIZE, description="Square network input size in pixels"
    )
    labels: list[str] | None = Field(
        None, description="Class names of a custom model; COCO when unset"
    )
    score_threshold: float = Field(0.35, gt=0.0, lt=1.0)
    nms_iou: float = Field(0.5, gt=0.0, le=1.0)
    classes: list[str] | None = Field(None, description="Keep only these classes (all when unset)")
    threads: int = Field(
        0, ge=0, le=1024, description="onnxruntime intra-op threads; 0 = all cores"
    )
    provider: Literal["cpu", "cuda", "tensorrt", "torch"] = Field(
        "cpu",
        description="onnxruntime execution provider; cuda and tensorrt need onnxruntime-gpu; "
        "torch runs the model under PyTorch on a CUDA GPU (the gpu extra), fed frames that "
        "hardware decoding left on the GPU",
    )
    tensorrt_cache: Path = Field(
        Path("data/tensorrt"), description="Where TensorRT keeps the engines it compiled"
    )


class CameraDetectorConfig(Strict):
    """Per-camera detector settings, over the worker's `detector` ones (docs/configuration.md)."""

    input_size: int | None = Field(
        None,
        ge=32,
        le=MAX_INPUT_SIZE,
        description="Network input size for this camera (a model with dynamic size)",
    )
    classes: list[str] | None = Field(None, description="Keep only these classes")
    score_threshold: float | None = Field(None, gt=0.0, lt=1.0)
    tiles: tuple[int, int] | None = Field(
        None,
        description="Also detect in columns × rows overlapping tiles, for small distant objects "
        "in wide high-resolution scenes (costs one inference per tile)",
    )
    tile_overlap: float = Field(
        0.2, ge=0.0, lt=0.5, description="Share of a tile that its neighbour also covers"
    )

    @field_validator("tiles")
    @classmethod
    def _tiles_positive(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and (min(value) < 1 or value[0] * value[1] > 16):
            raise ValueError("tiles are [columns, rows], each at least 1, at most 16 tiles")
        return value


class BatchingConfig(Strict):
    max_batch: int = Field(
        8, ge=1, le=1024, description="Frames per inference call at most (hundreds on a GPU)"
    )
    max_wait_ms: float = Field(
        15.0, ge=0.0, le=10_000.0, description="Longest wait to fill a batch"
    )
    queue_per_camera: int = Field(
        2, ge=1, le=10_000, description="Frames a camera may have waiting; older ones are dropped"
    )
    max_lag_ms: float | None = Field(
        None,
        gt=0.0,
        le=3_600_000.0,
        description="Lag budget of live cameras: a frame that could not be analysed within it is "
        "dropped, and cameras share the detector round-robin (unset: no budget)",
    )


class TrackerConfig(Strict):
    lost_track_buffer_s: float = Field(
        2.0, gt=0.0, le=3600.0, description="Seconds a lost track is kept"
    )
    activation_threshold: float = Field(
        0.4, gt=0.0, lt=1.0, description="Detection score that may start a new track"
    )
    minimum_consecutive_frames: int = Field(
        2, ge=1, le=1000, description="Frames a new track must be seen before it is reported"
    )


class PrivacyConfig(Strict):
    face_model: Path = Field(ROOT / "models" / "centerface.onnx")
    face_threshold: float = Field(
        0.35, gt=0.0, lt=1.0, description="CenterFace score above which a region is blurred"
    )
    blur_live: bool = Field(True, description="Blur faces in live view too")
    person_colors: bool = Field(
        False,
        description="Store the dominant colour of people (event.object.color for class person); "
        "off by default; a tenant admin may switch it on per tenant (an audited action)",
    )


class RetentionConfig(Strict):
    """How long events and media are kept, enforced by a background job. A tenant admin may
    override these per tenant through the API; a camera's `retention:` overrides both."""

    events_days: float = Field(
        30.0, gt=0.0, le=MAX_EVENTS_DAYS, description="Events are deleted after this many days"
    )
    media_hours: float = Field(
        72.0,
        gt=0.0,
        le=MAX_MEDIA_HOURS,
        description="Snapshots are deleted after this many hours (EDPB: 72 h)",
    )
    media_quota_mb: float | None = Field(
        None,
        gt=0.0,
        le=MAX_QUOTA_MB,
        description="Size quota of the media volume; oldest snapshots go first",
    )
    interval_s: float = Field(
        300.0, ge=1.0, le=86_400.0, description="How often the retention job runs"
    )


class CameraRetentionConfig(Strict):
    events_days: float | None = Field(None, gt=0.0, le=MAX_EVENTS_DAYS)
    media_hours: float | None = Field(None, gt=0.0, le=MAX_MEDIA_HOURS)


RecordingMode = Literal["continuous", "events", "off"]
MAX_RECORDING_HOURS = 24.0 * 365


class RecordingConfig(Strict):
    """Recording of each camera's own stream (remuxed, encrypted per tenant/camera/hour).
    A camera's `recording:` overrides these."""

    mode: RecordingMode = Field(
        "off",
        description="continuous: every segment; events: only around events (pre/post-roll); "
        "off: nothing",
    )
    segment_s: float = Field(
        4.0, ge=1.0, le=60.0, description="Target segment length; segments start on keyframes"
    )
    pre_roll_s: float = Field(5.0, ge=0.0, le=120.0, description="events mode: kept before")
    post_roll_s: float = Field(5.0, ge=0.0, le=600.0, description="events mode: kept after")
    retention_hours: float = Field(
        72.0,
        ge=1.0,
        le=MAX_RECORDING_HOURS,
        description="Hours of video kept; older hours are crypto-shredded",
    )
    quota_mb_per_tenant: float | None = Field(
        None,
        gt=0.0,
        le=MAX_QUOTA_MB,
        description="Recorded bytes a tenant may keep; oldest unlocked hours go first",
    )
    warn_ratio: float = Field(
        0.9, gt=0.0, le=1.0, description="Share of the quota at which a tenant is warned"
    )


class CameraRecordingConfig(Strict):
    mode: RecordingMode | None = None
    pre_roll_s: float | None = Field(None, ge=0.0, le=120.0)
    post_roll_s: float | None = Field(None, ge=0.0, le=600.0)
    retention_hours: float | None = Field(None, ge=1.0, le=MAX_RECORDING_HOURS)


class PrivacyMaskConfig(Strict):
    name: Label = ""
    polygon: list[Point] = Field(
        description="Vertices in pixels of the camera image; the area is blacked out in live "
        "view and in every stored image"
    )

    @field_validator("polygon")
    @classmethod
    def _enough_vertices(cls, value: list[Point]) -> list[Point]:
        if len(value) < 3:
            raise ValueError(f"a privacy mask needs at least 3 points, got {len(value)}")
        from vigil.domain.shapes import check_simple_polygon

        check_simple_polygon(value, "privacy mask")
        return value


class SecurityConfig(Strict):
    """Identity, sessions, tokens, rate limits and keys. See docs/security.md."""

    session_hours: float = Field(12.0, gt=0.0, le=24 * 30, description="Session cookie lifetime")
    secure_cookies: bool | None = Field(
        None, description="Mark cookies Secure; unset: when the request came over https"
    )
    lockout_failures: int = Field(
        5, ge=1, le=1000, description="Failed logins before an account locks"
    )
    lockout_minutes: float = Field(
        15.0, gt=0.0, le=10_080.0, description="How long a locked account waits"
    )
    login_per_minute: int = Field(
        10, ge=1, le=100_000, description="Login attempts per client address"
    )
    search_per_minute: int = Field(120, ge=1, le=100_000, description="Searches per user or token")
    token_max_days: int = Field(365, ge=1, le=3650, description="Longest lifetime of an API token")
    streams_per_user: int = Field(
        20, ge=1, le=10_000, description="Live event streams one user may hold open on one API node"
    )
    streams_per_tenant: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        description="Live event streams one tenant may hold open on one API node",
    )
    auth_cache_s: float = Field(
        2.0,
        ge=0.0,
        le=60.0,
        description="Seconds an API node reuses a checked token or session without asking the "
        "database again; a change made on the same node applies at once, one made on another "
        "node or by the CLI within this time (0: check every request)",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser; none by default",
    )
    key_file: Path | None = Field(
        None,
        description="Fernet key for camera credentials and for wrapping recording keys; "
        "default: vigil.key beside media_dir, created with mode 0600 on first run",
    )


class ZoneConfig(Strict):
    name: Label
    polygon: list[Point] = Field(description="Vertices in pixels of the camera image")
    classes: list[str] | None = None

    @field_validator("polygon")
    @classmethod
    def _enough_vertices(cls, value: list[Point]) -> list[Point]:
        if len(value) < 3:
            raise ValueError(f"a zone polygon needs at least 3 points, got {len(value)}")
        from vigil.domain.shapes import check_simple_polygon

        check_simple_polygon(value, "zone polygon")
        return value


class LineConfig(Strict):
    name: Label
    start: Point
    end: Point
    classes: list[str] | None = None

    @model_validator(mode="after")
    def _not_degenerate(self) -> LineConfig:
        if self.start == self.end:
            raise ValueError("the line has zero length: start and end are the same point")
        return self


class CalibrationConfig(Strict):
    """Ground calibration: four points on the ground, in the image and in metres on a map.

    They define the homography between pixels and the ground plane that speed, distance and
    density need. List the same four points in the same order in both lists.
    """

    image_points: list[Point] = Field(
        description="Four points on the ground, in pixels of the camera image"
    )
    ground_points: list[GroundPoint] = Field(
        description="The same four points in metres on a flat ground map (any origin and axes)"
    )

    @model_validator(mode="after")
    def _valid_homography(self) -> CalibrationConfig:
        check_calibration(self.image_points, self.ground_points)
        return self


class PresetGeometryConfig(Strict):
    """What a PTZ camera analyses while it is at one preset: the scene differs per preset, so
    the zones and lines do too. Unset: the camera's own."""

    zones: list[ZoneConfig] | None = None
    lines: list[LineConfig] | None = None


class CameraPtzConfig(Strict):
    """A PTZ camera moved through Vigil (ONVIF): where it returns when left alone, and which
    geometry each preset has. See docs/configuration.md, "PTZ cameras"."""

    onvif_url: str = Field(
        description="The camera's ONVIF address with its credentials, "
        "http://user:password@192.168.1.20:80; encrypted at rest, never shown by the API",
        json_schema_extra={"maxLength": URL_MAX_LENGTH},
    )
    profile: str = Field(min_length=1, max_length=64, description="Media profile token with PTZ")
    home_preset: str | None = Field(
        None, min_length=1, max_length=64, description="Preset token it returns to"
    )
    return_home_s: float | None = Field(
        None,
        gt=0.0,
        le=86_400.0,
        description="Return to `home_preset` after this many seconds without a move",
    )
    settle_s: float = Field(
        3.0, ge=0.0, le=60.0, description="Modules stay paused this long after a move starts"
    )
    presets: dict[str, PresetGeometryConfig] = Field(
        default_factory=dict, description="Zones and lines per preset token"
    )

    @field_validator("onvif_url")
    @classmethod
    def _onvif_address(cls, value: str, info: ValidationInfo) -> str:
        if info.context and info.context.get("sealed"):
            return value  # the store's encrypted form, checked before it was sealed
        from vigil.domain.onvif_address import parse_onvif_url

        parse_onvif_url(value)
        return value

    @model_validator(mode="after")
    def _home_needs_return(self) -> CameraPtzConfig:
        if self.return_home_s is not None and self.home_preset is None:
            raise ValueError("return_home_s needs home_preset: the preset to return to")
        return self


class CameraConfig(Strict):
    id: str = Field(
        description="Lower-case letters, digits, '-' and '_'; unique. A camera of a tenant other "
        "than `default` has an id `TENANT:NAME` (the API adds the prefix to a bare id)"
    )
    name: Label = ""
    tenant: str = Field("default", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    url: str = Field(
        description="rtsp://, http(s):// MJPEG or snapshot, a video file or an image",
        json_schema_extra={"maxLength": URL_MAX_LENGTH},
    )
    main_url: str | None = Field(
        None,
        description="The camera's full-resolution main stream, kept for recording; `url` is "
        "the stream analysed (the sub-stream, as is usual)",
        json_schema_extra={"maxLength": URL_MAX_LENGTH},
    )
    analysis_fps: float = Field(5.0, gt=0.0, le=60.0)
    loop: bool = Field(True, description="Replay a video file when it ends")
    start_offset_s: float = Field(
        0.0, ge=0.0, le=10_000_000.0, description="Start a video file this far in"
    )
    enabled: bool = True
    hardware_decode: bool = Field(
        False,
        description="Decode with NVDEC or FFmpeg's cuda hwaccel when present; otherwise the CPU "
        "(the camera's status says which, and why)",
    )
    detector: CameraDetectorConfig | None = Field(
        None, description="Input size, classes, score threshold and tiling for this camera"
    )
    priority: int = Field(
        0,
        ge=0,
        le=9,
        description="When the detector cannot keep up (batching.max_lag_ms set), cameras of a "
        "higher priority keep their analysed rate and lower ones are slowed first",
    )
    zones: list[ZoneConfig] = Field(default_factory=list)
    lines: list[LineConfig] = Field(default_factory=list)
    calibration: CalibrationConfig | None = Field(
        None, description="Ground calibration for speeds, distances and densities in metres"
    )
    modules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Analytics modules by name, each with its own settings"
    )
    privacy_masks: list[PrivacyMaskConfig] = Field(
        default_factory=list, description="Areas blacked out in live view and stored images"
    )
    retention: CameraRetentionConfig | None = Field(
        None, description="Overrides the tenant's and the global retention for this camera"
    )
    recording: CameraRecordingConfig | None = Field(
        None, description="Overrides the global recording settings for this camera"
    )
    ptz: CameraPtzConfig | None = Field(
        None, description="ONVIF PTZ: return home when idle, zones and lines per preset"
    )

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not namespaces.CAMERA_ID.match(value) or len(value) > namespaces.MAX_LENGTH:
            raise ValueError(
                "use 1-64 lower-case letters, digits, '-' or '_', starting alphanumeric, "
                "after the tenant's prefix ('acme:gate') for a tenant other than 'default'"
            )
        return value

    @field_validator("url")
    @classmethod
    def _readable_url(cls, value: str, info: ValidationInfo) -> str:
        from vigil.domain.source_urls import classify

        if info.context and info.context.get("sealed"):
            return value  # the store's encrypted form, checked before it was sealed
        if len(value) > URL_MAX_LENGTH:
            raise ValueError(f"at most {URL_MAX_LENGTH} characters, got {len(value)}")
        check_label(value)
        classify(value)  # blank, or a scheme no source reads: named here, as field `url`
        return value

    @model_validator(mode="after")
    def _check_geometry_and_modules(self) -> CameraConfig:
        self.name = self.name or self.id
        for kind, items in (("zone", self.zones), ("line", self.lines)):
            names = [item.name for item in items]
            if len(names) != len(set(names)):
                raise ValueError(f"{kind} names must be unique within a camera, got {names}")
        if self.modules:  # settings, then what each module needs of the camera
            checks = module_checks.catalogue()
            checks.check_camera(self)
            for token, geometry in (self.ptz.presets if self.ptz else {}).items():
                # At that preset the modules must find their zones and lines too.
                at_preset = self.model_copy(
                    update={
                        "zones": self.zones if geometry.zones is None else geometry.zones,
                        "lines": self.lines if geometry.lines is None else geometry.lines,
                    }
                )
                try:
                    checks.check_camera(at_preset)
                except ValueError as error:
                    raise ValueError(f"ptz.presets.{token}: {error}") from None
        return self


class BusConfig(Strict):
    """Where events travel between processes. Unset `url`: an in-process bus (one node)."""

    url: str | None = Field(
        None,
        description="NATS server URL(s), comma-separated (nats://h1:4222,nats://h2:4222); "
        "set it to run Vigil as a cluster (docs/deployment.md)",
    )
    prefix: str = Field(
        "vigil",
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="Subject, stream and bucket name prefix; clusters sharing NATS differ here",
    )
    replicas: int = Field(
        1, ge=1, le=5, description="JetStream replicas of streams and buckets (3 in production)"
    )
    user: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="NATS user name; its password is read from password_file",
    )
    password_file: Path | None = Field(
        None, description="File holding the NATS user's password (keeps it out of this file)"
    )
    token_file: Path | None = Field(
        None, description="File holding a NATS authentication token (instead of user)"
    )
    credentials_file: Path | None = Field(
        None,
        description="NATS credentials file (.creds: a user JWT and its NKey seed, as nsc "
        "writes them) for servers with decentralised (JWT) authentication; instead of user or "
        "token_file",
    )
    tls_ca: Path | None = Field(
        None, description="CA certificate(s), PEM, to verify the NATS servers by; turns on TLS"
    )
    tls_cert: Path | None = Field(
        None, description="Client certificate, PEM, for NATS servers that verify clients"
    )
    tls_key: Path | None = Field(None, description="Private key of tls_cert, PEM")

    @model_validator(mode="after")
    def _credentials_complete(self) -> BusConfig:
        # The files themselves are read when the node connects (they may live on a volume that
        # only the node's machine or pod has).
        if (self.user is None) != (self.password_file is None):
            raise ValueError("user and password_file go together: set both, or neither")
        chosen = [
            name
            for name, value in (
                ("user", self.user),
                ("token_file", self.token_file),
                ("credentials_file", self.credentials_file),
            )
            if value is not None
        ]
        if len(chosen) > 1:
            raise ValueError(
                f"one way to log in to NATS, not {' and '.join(chosen)}: a user "
                "with a password_file, a token_file, or a credentials_file"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both, or neither")
        return self

    @field_validator("url")
    @classmethod
    def _nats_urls(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for url in value.split(","):
            if not re.match(r"^(nats|tls)://[^\s/]+$", url.strip()):
                raise ValueError(
                    f"{url.strip()!r} is not a NATS URL; expected nats://host:port, "
                    "comma-separated for a cluster"
                )
        return value


class ClusterConfig(Strict):
    """How workers share cameras, and API nodes take turns evaluating alert rules (used when
    `bus.url` is set)."""

    worker_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="This worker's name; default: host name and process id",
    )
    capacity: int = Field(16, ge=1, le=10_000, description="Cameras this worker analyses at most")
    processes: int = Field(
        1,
        ge=1,
        le=64,
        description="`vigil worker` runs this many worker processes (named <worker_id>-<k>), "
        "each with an even share of `capacity` and its own detector on the shared GPU, so "
        "tracking and modules use as many cores",
    )
    heartbeat_s: float = Field(
        1.0,
        gt=0.0,
        le=60.0,
        description="How often a worker says it is alive and renews leases (an API node: its "
        "alerts role)",
    )
    ttl_s: float = Field(
        3.0,
        gt=0.0,
        le=600.0,
        description="A worker silent this long is presumed dead and its cameras move (an API "
        "node: another one takes up evaluating alerts)",
    )

    @model_validator(mode="after")
    def _ttl_covers_heartbeats(self) -> ClusterConfig:
        if self.ttl_s < 2 * self.heartbeat_s:
            raise ValueError(
                f"ttl_s ({self.ttl_s}) must be at least twice heartbeat_s ({self.heartbeat_s}), "
                "or one late heartbeat would move every camera"
            )
        return self


class SourcesConfig(Strict):
    """Where cameras added through the API may read from; see docs/security.md.

    Cameras of the config file are the system administrator's own and are not limited by it.
    """

    file_roots: list[Path] = Field(
        default_factory=list,
        description="Directories whose video files API-added cameras may read; none by default",
    )
    allow_networks: list[str] = Field(
        default_factory=list,
        description="If set, API-added cameras connect only to addresses in these CIDR networks; "
        "an entry inside loopback or link-local space admits that space explicitly",
    )
    deny_networks: list[str] = Field(
        default_factory=list,
        description="API-added cameras never connect to addresses in these CIDR networks",
    )

    @field_validator("allow_networks", "deny_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not a CIDR network like 10.1.0.0/16") from None
        return value


class VigilConfig(Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    batching: BatchingConfig = Field(default_factory=BatchingConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    cameras: list[CameraConfig] = Field(default_factory=list)
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    recording: RecordingConfig = Field(default_factory=RecordingConfig)
    bus: BusConfig = Field(default_factory=BusConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)

    @model_validator(mode="after")
    def _unique_camera_ids(self) -> VigilConfig:
        ids = [camera.id for camera in self.cameras]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"camera ids must be unique; repeated: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _camera_ids_in_their_tenants(self) -> VigilConfig:
        """The file's cameras are written with their tenant's prefix, never renamed silently:
        stored events and recordings carry the id."""
        problems = [
            InitErrorDetails(
                type=PydanticCustomError("camera_namespace", "{message}", {"message": message}),
                loc=("cameras", index, "id"),
                input=camera.id,
            )
            for index, camera in enumerate(self.cameras)
            if (message := namespaces.misplaced(camera.id, camera.tenant, "camera", "id"))
        ]
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _camera_classes_known(self) -> VigilConfig:
        from vigil.domain.coco import COCO_CLASSES

        labels = set(self.detector.labels or COCO_CLASSES)
        for camera in self.cameras:
            wanted = (camera.detector.classes or []) if camera.detector else []
            unknown = sorted(set(wanted) - labels)
            if unknown:
                raise ValueError(
                    f"cameras[{camera.id}].detector.classes: the model has no class "
                    f"{', '.join(unknown)}"
                )
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
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at line {line});"
            " save the file as UTF-8"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    return parse_config(data, str(path))


def default_key_file(media_dir: Path) -> Path:
    """Where the key that seals stored camera credentials lives when `security.key_file` is
    unset: beside the media directory, never inside it (media may be copied elsewhere)."""
    return Path(media_dir).parent / "vigil.key"
