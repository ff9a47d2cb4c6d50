"""What a PTZ camera is analysed with where it points: the preset's zones and lines, and no
modules while it moves or is off every preset. A pure function of the saved settings and the
camera's position, so that an API node's engine and a cluster's workers (which read the
position from the store) derive the same analysis from the same inputs."""

from __future__ import annotations

from vigil.config import CameraConfig


def at_preset(camera: CameraConfig, preset: str | None) -> CameraConfig:
    """The camera as analysed at `preset`: that preset's zones and lines where it has them."""
    geometry = camera.ptz.presets.get(preset) if camera.ptz and preset is not None else None
    if geometry is None:
        return camera
    return camera.model_copy(
        update={
            "zones": camera.zones if geometry.zones is None else geometry.zones,
            "lines": camera.lines if geometry.lines is None else geometry.lines,
        }
    )


def analysed_at(camera: CameraConfig, preset: str | None, paused: bool) -> CameraConfig:
    """`camera` (its saved settings) as analysed at `preset`, without modules when `paused`:
    no zone or line fits a picture that is moving or at no preset."""
    current = at_preset(camera, preset)
    return current.model_copy(update={"modules": {}}) if paused else current
