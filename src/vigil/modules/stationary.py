"""Objects that stay put in watched zones: the settings, the follower and the zone membership
that `abandoned` and `stopped_vehicle` share, set up one way so the two cannot drift apart.
What each judges of such an object (nobody near it; how long it has been stopped) stays in
its module.
"""

from __future__ import annotations

from pydantic import Field

from vigil.config import CameraConfig
from vigil.domain.geometry import Homography, points_in_polygon
from vigil.modules.base import ModuleSettings
from vigil.modules.geometry import Stationary, StationaryObjects, require_calibration


class StationarySettings(ModuleSettings):
    """Where objects are watched and when one counts as staying put; each module adds the
    `classes` it watches (their defaults differ) and what else it judges."""

    zones: list[str] | None = Field(
        None, min_length=1, description="Only objects standing in these zones; anywhere in the "
        "image when unset"
    )
    duration_s: float = Field(
        60.0, gt=0.0, description="Stationary this long (and for abandoned objects, unattended) "
        "before the event starts"
    )
    max_movement_px: float = Field(
        15.0, gt=0.0, description="An object that moves farther (pixels) is no longer stationary"
    )
    max_movement_m: float | None = Field(
        None, gt=0.0, description="The same in metres on the ground (needs a calibration)"
    )
    grace_s: float = Field(
        5.0, ge=0.0, description="An object unseen this long (occluded, a detector dropout) is "
        "still there"
    )


class StationaryWatch:
    """A camera's stationary objects of `classes` (followed by place, in ground metres when
    `max_movement_m` is set) and the watched zones each one stands in."""

    def __init__(
        self, settings: StationarySettings, classes: list[str], camera: CameraConfig
    ) -> None:
        self.homography = Homography.of_camera(camera)
        self.objects = StationaryObjects(
            classes,
            settings.max_movement_m or settings.max_movement_px,
            settings.grace_s,
            self.homography if settings.max_movement_m is not None else None,
        )
        self.everywhere = settings.zones is None
        wanted = settings.zones or []
        self.zones = [zone for zone in camera.zones if zone.name in wanted]

    @staticmethod
    def check_camera(settings: StationarySettings, camera: CameraConfig, module: str) -> None:
        """A distance in metres needs the camera's ground calibration."""
        if settings.max_movement_m is not None:
            require_calibration(camera, module, "max_movement_m")

    def zones_of(self, item: Stationary) -> list[str | None]:
        """The watched zones the object stands in; [None] when the whole image is watched,
        [] when it stands outside every watched zone."""
        if self.everywhere:
            return [None]
        point = item.image_anchor.reshape(1, 2)
        return [zone.name for zone in self.zones if points_in_polygon(point, zone.polygon)[0]]
