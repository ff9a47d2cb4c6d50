"""What the API may ask of the running pipeline: a Protocol, so the API never reaches inside."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from vigil.config import CameraConfig
from vigil.domain.frames import CameraStatus
from vigil.privacy.masks import AttributePolicy

if TYPE_CHECKING:
    from vigil.recording.service import RecordingService


class PipelineMetric(NamedTuple):
    kind: Literal["counter", "gauge"]
    help: str
    value: float


class EngineControl(Protocol):
    """Implemented by `pipeline.local_engine.LocalEngine` (every camera in this process) and
    `cluster.remote.ClusterEngine` (cameras on worker nodes).

    A camera is *analysed* when `cameras()` lists it. Callers hand a change to the engine
    first and write it to the store after, so that a camera the engine refuses is never
    stored (the cluster engine reads the store: there, a stored enabled camera is analysed).
    Both engines answer taken and unknown ids alike: `add_camera` raises KeyError for an id
    already analysed, `replace_camera` and `remove_camera` for one that is not, and a call
    that raises changes nothing. Settings the pipeline cannot run raise ModelError (the API
    answers 422)."""

    @property
    def attributes(self) -> AttributePolicy | None:
        """The privacy policy for object attributes (person colours) that this process's
        pipeline applies, so tenant choices made in the API reach it; None where the pipeline
        runs elsewhere (cluster workers load the choices themselves)."""
        ...

    @property
    def recording(self) -> RecordingService | None:
        """This process's recording (its writer's figures go to /metrics); None where no
        camera records here (recording off, or the cameras run on cluster workers)."""
        ...

    def cameras(self) -> list[CameraConfig]:
        """Cameras being analysed, in the order they were added."""
        ...

    def status(self, camera_id: str) -> CameraStatus | None: ...

    def statuses(self) -> list[CameraStatus]: ...

    def add_camera(self, camera: CameraConfig) -> None:
        """Start analysing a camera. Raises KeyError if its id is already analysed."""
        ...

    def replace_camera(self, camera: CameraConfig) -> None:
        """Restart a camera with new settings. Raises KeyError if it is not analysed."""
        ...

    def analyse_as(
        self, camera: CameraConfig, preset: str | None, paused: bool,
        resume_after_s: float | None = None,
    ) -> None:
        """Analyse `camera` (its saved settings) as a PTZ camera pointing at `preset`: with
        that preset's zones and lines, and without modules while `paused` (moving, or off
        every preset); `cameras()` then lists it so. Raises KeyError if it is not analysed.
        The single node restarts it here; a cluster records the position in the store, where
        the camera's worker (after a failover too) reads it. `resume_after_s`: a pause that
        ends by itself this long after it began unless a later call ends it first (a move's
        settling), so a cluster's camera resumes even when the API node that moved it stops
        before it settled; a single node's pipeline stops with that node, so it has no use
        for it."""
        ...

    def remove_camera(self, camera_id: str) -> None:
        """Stop a camera and end its open events. Raises KeyError if it is not analysed."""
        ...

    def live_jpeg(
        self, camera_id: str, *, overlay: bool = True, max_width: int | None = None
    ) -> tuple[bytes, int] | None:
        """The latest analysed frame as (JPEG bytes, frame epoch ms), faces blurred unless
        privacy.blur_live is off; with `overlay`, boxes, track ids, zones and lines drawn.
        None until the camera delivered a frame. Raises KeyError if unknown."""
        ...

    def pipeline_metrics(self) -> dict[str, PipelineMetric]:
        """Engine-wide figures for /metrics: inference, queues, published events."""
        ...

    def module_stats(self, camera_id: str) -> dict[str, Any]:
        """Live counters per module (line counts per class and direction, zone occupancy)."""
        ...
