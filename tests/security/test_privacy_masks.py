"""Privacy masks are black in live view and in stored snapshots; person colours are dropped
unless a tenant admin switched them on (an audited action)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import supervision as sv

from tests.api.conftest import build_event
from tests.security.conftest import World
from vigil.bus import MemoryBus
from vigil.config import parse_config
from vigil.domain.events import EventMessage, ObjectInfo, Phase
from vigil.domain.frames import Frame
from vigil.pipeline.camera import LiveState
from vigil.pipeline.lifecycle import SnapshotRequest
from vigil.pipeline.local_engine import LocalEngine
from vigil.pipeline.output import EventOutput
from vigil.privacy.masks import AttributePolicy, apply_masks
from vigil.store import LocalMediaStore

MASK = {"name": "neighbour-window", "polygon": [[100, 40], [220, 40], [220, 160], [100, 160]]}
INSIDE, OUTSIDE = (160, 100), (40, 200)  # (x, y)


class NoFaces:
    """Stands in for CenterFace: finds nothing, so only the mask can darken pixels."""

    def detect(self, image: np.ndarray) -> np.ndarray:
        return np.zeros((0, 5), dtype=np.float32)


class NoFaceRedactor:
    detector = NoFaces()

    def redact(self, image: np.ndarray) -> np.ndarray:
        return image.copy()


def bright(width: int = 320, height: int = 240) -> np.ndarray:
    return np.full((height, width, 3), 200, dtype=np.uint8)


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_apply_masks_fills_the_polygon_and_scales_it() -> None:
    config = parse_config({"cameras": [{"id": "cam", "url": "x.mp4", "privacy_masks": [MASK]}]})
    masks = config.cameras[0].privacy_masks
    image = apply_masks(bright(), masks)
    assert image[INSIDE[1], INSIDE[0]].tolist() == [0, 0, 0]
    assert image[OUTSIDE[1], OUTSIDE[0]].tolist() == [200, 200, 200]
    half = apply_masks(bright(160, 120), masks, scale=0.5)
    assert half[50, 80].tolist() == [0, 0, 0] and half[100, 20].tolist() == [200, 200, 200]


def test_masks_need_three_points() -> None:
    from vigil.config import ConfigError

    try:
        parse_config(
            {"cameras": [{"id": "c", "url": "x", "privacy_masks": [{"polygon": [[0, 0], [1, 1]]}]}]}
        )
    except ConfigError as error:
        assert "cameras[0].privacy_masks[0].polygon" in str(error)
    else:
        raise AssertionError("a two-point mask was accepted")


class NoObjects:
    """A detector that finds nothing: live view is drawn from the frame set below, and the
    engine needs only the model's labels to accept the camera."""

    labels = ("person",)

    def detect(self, images: list[np.ndarray]) -> list[sv.Detections]:
        return [sv.Detections.empty() for _ in images]


def test_live_view_is_masked_at_every_size_with_or_without_overlay(tmp_path: Path) -> None:
    config = parse_config(
        {
            "privacy": {"blur_live": True},
            "cameras": [{"id": "cam", "url": str(tmp_path / "none.jpg"), "privacy_masks": [MASK]}],
        }
    )
    engine = LocalEngine(
        config,
        detector=NoObjects(),
        redactor=NoFaceRedactor(),  # type: ignore[arg-type]
        bus=MemoryBus(),
        media=LocalMediaStore(tmp_path / "m"),
    )
    try:
        engine.add_camera(config.cameras[0])
        frame = Frame(camera_id="cam", seq=1, ts_ms=1, image=bright())
        engine._cameras["cam"].pipeline.live = LiveState(frame, sv.Detections.empty())
        for overlay, width in ((False, None), (True, None), (False, 160)):
            jpeg = engine.live_jpeg("cam", overlay=overlay, max_width=width)
            assert jpeg is not None
            image = decode(jpeg[0])
            scale = image.shape[1] / 320
            x, y = int(INSIDE[0] * scale), int(INSIDE[1] * scale)
            assert image[y, x].max() < 20, (overlay, width)
            assert image[int(OUTSIDE[1] * scale), int(OUTSIDE[0] * scale)].min() > 150
        assert frame.image[INSIDE[1], INSIDE[0]].tolist() == [200, 200, 200]  # source intact
    finally:
        engine.stop()


def test_stored_snapshots_are_masked_and_person_colours_dropped(tmp_path: Path) -> None:
    media = LocalMediaStore(tmp_path / "media")
    bus = MemoryBus()
    subscription = bus.subscribe("test", lossless=True)
    config = parse_config({"cameras": [{"id": "gate", "url": "x", "privacy_masks": [MASK]}]})
    attributes = AttributePolicy(default=False)
    attributes.set("harbour", True)
    output = EventOutput(
        bus,
        media,
        NoFaceRedactor(),  # type: ignore[arg-type]
        masks=lambda camera_id: config.cameras[0].privacy_masks,
        attributes=attributes,
    )
    person = build_event(camera_id="gate").model_copy(
        update={
            "object": ObjectInfo(
                class_name="person", class_id=0, score=0.9, box=(1, 2, 3, 4), color="red"
            )
        }
    )
    car = build_event(camera_id="gate", class_name="car").model_copy(
        update={
            "object": ObjectInfo(
                class_name="car", class_id=2, score=0.9, box=(1, 2, 3, 4), color="blue"
            )
        }
    )
    allowed = build_event(camera_id="gate", tenant="harbour").model_copy(
        update={"object": ObjectInfo(class_name="person", class_id=0, score=0.9, color="green")}
    )
    image = bright()
    output.submit(
        EventMessage(phase=Phase.START, event=person),
        SnapshotRequest("default/gate/2026-01-01/a.jpg", image, 7, None),
    )
    output.submit(EventMessage(phase=Phase.START, event=car), None)
    output.submit(EventMessage(phase=Phase.START, event=allowed), None)
    output.close()
    stored = decode(media.get("default/gate/2026-01-01/a.jpg") or b"")
    assert stored[INSIDE[1], INSIDE[0]].max() < 20
    assert stored[OUTSIDE[1], OUTSIDE[0]].min() > 150
    assert image[INSIDE[1], INSIDE[0]].tolist() == [200, 200, 200]
    published: list[Any] = []
    while (message := subscription.get(timeout=0.5)) is not None:
        published.append(message.event)
    colours = {(e.tenant, e.object.class_name): e.object.color for e in published}
    assert colours == {
        ("default", "person"): None,
        ("default", "car"): "blue",
        ("harbour", "person"): "green",
    }


def test_switching_person_colours_on_is_an_audited_admin_action(world: World) -> None:
    attributes: AttributePolicy = world.app.state.attributes
    assert attributes.person_colors("alpha") is False
    assert (
        world.client("alpha:operator")
        .put("/api/settings/privacy", json={"person_colors": True})
        .status_code
        == 403
    )
    admin = world.client("alpha:admin")
    turned = admin.put("/api/settings/privacy", json={"person_colors": True})
    assert turned.status_code == 200 and turned.json()["person_colors"] is True
    assert attributes.person_colors("alpha") and not attributes.person_colors("bravo")
    record = world.client("alpha:auditor").get("/api/audit").json()["items"][1]
    assert record["action"] == "settings.person_colors"
    assert record["details"] == {"before": False, "after": True}
    assert record["actor"].startswith("alpha:admin")
    # The choice survives a restart: it is read back from the tenant's settings.
    from vigil.auth.wiring import build_identity

    again = build_identity(world.config, world.engine, world.store, world.media)
    assert again.attributes.person_colors("alpha") is True
    assert (
        admin.put("/api/settings/privacy", json={"person_colors": None}).json()["person_colors"]
        is False
    )
