"""Handing a changed camera to the engine and then to the store: the one way PUT
/api/cameras/{id}, the bulk import and apply-to change a camera, so they cannot drift apart.

The engine goes first (vigil.pipeline.control.EngineControl states the order), so a camera
it refuses is never stored; a PTZ camera away from home goes on analysing its preset's
geometry, while the store keeps the home settings.
"""

from __future__ import annotations

from vigil.api.context import AppContext
from vigil.config import CameraConfig
from vigil.pipeline.ptz import PtzControl
from vigil.store.cameras import Origin


def apply_camera(ctx: AppContext, ptz: PtzControl, camera: CameraConfig, origin: Origin) -> None:
    """Run, restart or stop `camera` as its `enabled` says, then store it."""
    running = any(known.id == camera.id for known in ctx.engine.cameras())
    if running and camera.enabled:
        ctx.engine.replace_camera(ptz.analysed(camera))
    elif running:
        ctx.engine.remove_camera(camera.id)
    elif camera.enabled:
        ctx.engine.add_camera(ptz.analysed(camera))
    ctx.store.put_camera(camera, origin)
