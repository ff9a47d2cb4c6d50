"""The cameras a cluster analyses, as every node derives them from the store: the enabled
cameras' saved settings, each PTZ camera at the position the API last recorded for it
(vigil.store.ptz_rows). Workers run exactly this, and the API node's engine lists it, so
the two cannot disagree about a moved camera's geometry or paused modules. A move's pause
that outlived its end (the API node that moved the camera stopped meanwhile) is over: the
next worker round restarts the camera with its modules."""

from __future__ import annotations

from vigil.config import CameraConfig
from vigil.domain.frames import now_ms
from vigil.pipeline.ptz_geometry import analysed_at
from vigil.store.store import EventStore


def analysed_cameras(store: EventStore) -> list[CameraConfig]:
    positions = store.ptz_positions()
    ts = now_ms()
    analysed = []
    for stored in store.list_cameras(None):
        camera = stored.config
        if not camera.enabled:
            continue
        position = positions.get(camera.id)
        if position is not None:
            camera = analysed_at(camera, position.preset, position.paused_at(ts))
        analysed.append(camera)
    return analysed
