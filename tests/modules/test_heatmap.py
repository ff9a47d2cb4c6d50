"""Activity heatmap: object-seconds per cell, fading; its JSON and PNG routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import StaticEngine, api_app, trust
from tests.databases import database_url
from tests.media import ZONE
from tests.modules.synth import box_at, camera, frame
from tests.vision.footage import BASE_MS, clip_frames
from vigil.api.access import tenant_scope
from vigil.bus import MemoryBus
from vigil.config import ConfigError, DetectorConfig, TrackerConfig, parse_config
from vigil.modules.base import Tracks
from vigil.modules.heatmap import HeatmapModule
from vigil.modules.registry import build_modules
from vigil.store import EventStore, LocalMediaStore
from vigil.vision.detector import OnnxDetector
from vigil.vision.heatmap import render_heatmap
from vigil.vision.tracker import CameraTracker


def heatmap(**settings: object) -> HeatmapModule:
    (module,) = build_modules(camera({"heatmap": settings}))
    assert isinstance(module, HeatmapModule)
    return module


def test_object_seconds_accumulate_in_the_cell_under_the_feet() -> None:
    module = heatmap(cols=8, rows=6, half_life_s=0)  # frame 640×480: cells of 80×80
    for t in range(0, 10_001, 500):  # 10 s at 2 fps
        module.update(frame(t, (1, "person", box_at(100, 100)),
                                   (2, "car", box_at(600, 470))))
    grid = np.array(module.stats()["grid"])
    assert grid[1, 1] == pytest.approx(10.0 + 0.2)  # 10 s, plus one default step at the start
    assert grid[5, 7] == pytest.approx(10.2)
    assert grid.sum() == pytest.approx(20.4)
    stats = module.stats()
    assert stats["frame_size"] == [640, 480] and stats["unit"] == "object-seconds"
    assert (stats["cols"], stats["rows"], stats["max"]) == (8, 6, pytest.approx(10.2))


def test_rate_independent_and_class_filter() -> None:
    slow, fast = heatmap(cols=4, rows=4, half_life_s=0), heatmap(cols=4, rows=4, half_life_s=0)
    for t in range(0, 6001, 1000):
        slow.update(frame(t, (1, "person", box_at(50, 50))))
    for t in range(0, 6001, 100):
        fast.update(frame(t, (1, "person", box_at(50, 50))))
    assert np.array(slow.stats()["grid"])[0, 0] - 0.2 == pytest.approx(
        np.array(fast.stats()["grid"])[0, 0] - 0.2
    )
    cars = heatmap(classes=["car"])
    cars.update(frame(0, (1, "person", box_at(50, 50))))
    assert cars.stats()["total"] == 0


def test_activity_fades_with_the_half_life() -> None:
    module = heatmap(cols=4, rows=4, half_life_s=10)
    module.update(frame(0, (1, "person", box_at(50, 50))))
    before = module.stats()["total"]
    module.update(frame(10_000))  # 10 s later, nobody there
    assert module.stats()["total"] == pytest.approx(before / 2, rel=1e-3)


def test_long_gaps_count_at_most_two_seconds() -> None:
    module = heatmap(cols=4, rows=4, half_life_s=0)
    module.update(frame(0, (1, "person", box_at(50, 50))))
    module.update(frame(60_000, (1, "person", box_at(50, 50))))
    assert module.stats()["total"] == pytest.approx(0.2 + 2.0)


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"modules\.heatmap\.cols"):
        camera({"heatmap": {"cols": 1}})
    with pytest.raises(ConfigError, match=r"modules\.heatmap\.half_life_s"):
        camera({"heatmap": {"half_life_s": -1}})


def test_render_scales_blends_and_keeps_cold_areas_clear() -> None:
    grid = np.zeros((6, 8))
    grid[1, 1] = 10.0
    plain = render_heatmap(grid, (320, 240))
    assert plain.shape == (240, 320, 3)
    hot, cold = plain[50, 50], plain[220, 300]
    assert hot[2] > 150 and cold[0] > cold[2]  # red where busy, blue where not
    background = np.full((480, 640, 3), 128, np.uint8)
    blended = render_heatmap(grid, (640, 480), background)
    assert blended.shape == (480, 640, 3)
    assert (blended[460, 620] == 128).all()  # nothing there: the frame shows through
    assert abs(int(blended[100, 100, 2]) - 128) > 40


# API -------------------------------------------------------------------------------------------


class HeatmapEngine(StaticEngine):
    def __init__(self, *args: Any, grid: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grid = grid

    def module_stats(self, camera_id: str) -> dict[str, Any]:
        if camera_id not in {c.id for c in self.cameras()}:
            raise KeyError(camera_id)
        return {"heatmap": self.grid} if self.grid is not None else {"line": {}}


def grid_stats() -> dict[str, Any]:
    module = heatmap(cols=8, rows=6)
    for t in range(0, 5000, 200):
        module.update(frame(t, (1, "person", box_at(120, 150))))
    return module.stats()


def client_for(tmp_path: Path, grid: dict[str, Any] | None, blur_live: bool = True):
    config = parse_config(
        {
            "privacy": {"blur_live": blur_live},
            "store": {"url": database_url(tmp_path), "media_dir": str(tmp_path / "media")},
            "cameras": [
                {"id": "gate", "url": "a.mp4", "modules": {"heatmap": {}}},
                {"id": "harbour:dock", "tenant": "harbour", "url": "b.mp4"},
            ],
        }
    )
    engine = HeatmapEngine(config.cameras, grid=grid)
    store = EventStore(config.store.url)
    # Called as an unrestricted internal principal, as the API's route tests are.
    app = trust(api_app(config, engine, store, LocalMediaStore(config.store.media_dir),
                           MemoryBus()))
    return TestClient(app), engine


def decode(body: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


Served = tuple[TestClient, HeatmapEngine]
Api = Callable[..., Served]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Served]:
    """One app with live blurring on and one with it off, shared by the route tests."""
    return {
        blur: client_for(tmp_path_factory.mktemp(f"blur-{blur}"), None, blur_live=blur)
        for blur in (True, False)
    }


@pytest.fixture
def api(served: dict[bool, Served]) -> Iterator[Api]:
    def get(grid: dict[str, Any] | None, blur_live: bool = True) -> Served:
        client, engine = served[blur_live]
        engine.grid, engine.live_calls = grid, 0
        engine._frames.clear()
        return client, engine

    yield get
    for client, _ in served.values():
        assert isinstance(client.app, FastAPI)
        client.app.dependency_overrides.pop(tenant_scope, None)


def test_heatmap_json_route(api: Api) -> None:
    client, _ = api(grid_stats())
    reply = client.get("/api/cameras/gate/heatmap")
    assert reply.status_code == 200
    body = reply.json()
    assert (body["rows"], body["cols"]) == (6, 8) and len(body["grid"]) == 6
    assert np.array(body["grid"]).argmax() == 1 * 8 + 1  # the cell at (120, 150) of 640×480
    assert client.get("/api/cameras/nope/heatmap").status_code == 404


def test_heatmap_png_over_the_live_frame_and_alone(api: Api) -> None:
    client, engine = api(grid_stats())
    alone = client.get("/api/cameras/gate/heatmap.png?width=400")
    assert alone.status_code == 200 and alone.headers["content-type"] == "image/png"
    assert alone.headers["x-heatmap-background"] == "none"  # no frame yet
    assert decode(alone.content).shape == (300, 400, 3)  # the frame's 4:3
    engine.set_frame("gate", BASE_MS, width=320, height=240)
    calls = engine.live_calls
    over = client.get("/api/cameras/gate/heatmap.png")
    assert over.headers["x-heatmap-background"] == "live"
    assert engine.live_calls == calls + 1  # the engine's (face-blurred) live frame
    assert decode(over.content).shape == (240, 320, 3)
    plain = client.get("/api/cameras/gate/heatmap.png?background=false")
    assert plain.headers["x-heatmap-background"] == "none"


def test_heatmap_png_never_uses_unblurred_frames(api: Api) -> None:
    client, engine = api(grid_stats(), blur_live=False)
    engine.set_frame("gate", BASE_MS)
    reply = client.get("/api/cameras/gate/heatmap.png")
    assert reply.status_code == 200 and reply.headers["x-heatmap-background"] == "none"
    assert engine.live_calls == 0


def test_heatmap_follows_the_callers_scope(api: Api) -> None:
    from vigil.auth.scope import AccessScope

    client, engine = api(grid_stats())
    engine.set_frame("gate", BASE_MS)
    app = client.app
    assert isinstance(app, FastAPI)
    # statistics but not live view: the grid, never the frame
    app.dependency_overrides[tenant_scope] = lambda: AccessScope(["default"], kinds=["stats"])
    reply = client.get("/api/cameras/gate/heatmap.png")
    assert reply.status_code == 200 and reply.headers["x-heatmap-background"] == "none"
    assert engine.live_calls == 0
    # another tenant's caller does not see the camera at all
    app.dependency_overrides[tenant_scope] = lambda: AccessScope(["harbour"])
    assert client.get("/api/cameras/gate/heatmap").status_code == 404
    assert client.get("/api/cameras/gate/heatmap.png").status_code == 404


def test_heatmap_routes_need_the_module(api: Api) -> None:
    client, _ = api(None)
    reply = client.get("/api/cameras/gate/heatmap.png")
    assert reply.status_code == 404 and "heatmap module is not enabled" in reply.json()["detail"]
    assert client.get("/api/cameras/Bad!/heatmap").status_code in (404, 422)


# real footage ----------------------------------------------------------------------------------


def test_heatmap_of_the_street_clip_lies_on_the_walkway() -> None:
    """Real detections and tracks on 20 s of the clip: most heat is on the demo's walkway zone
    (the rest on the path and road beyond it), the hottest cell among it, and none at all on
    the lawn below the road, where nobody walks."""
    detector = OnnxDetector(DetectorConfig(threads=2))
    tracker = CameraTracker(TrackerConfig(), 5.0)
    module = heatmap(cols=24, rows=18, half_life_s=0, classes=["person"])
    for index, image in enumerate(clip_frames(step=2, start=0, stop=200)):
        (found,) = detector.detect([image])
        ts = BASE_MS + index * 200
        tracks = tracker.update(found, ts)
        module.update(Tracks("cam", ts, tracks, (576, 768), image))
    grid = np.array(module.stats()["grid"])
    assert grid.sum() > 40  # several people for 20 s

    def cells_in(polygon: list, margin: float) -> np.ndarray:
        outline = np.array(polygon, np.float32)
        rows, cols = np.indices(grid.shape)
        xs, ys = ((cols + 0.5) * 768 / 24).ravel(), ((rows + 0.5) * 576 / 18).ravel()
        centres = zip(xs, ys, strict=True)
        inside = [cv2.pointPolygonTest(outline, (float(x), float(y)), True) > -margin
                  for x, y in centres]
        return np.array(inside).reshape(grid.shape)

    walkway = cells_in(ZONE["polygon"], margin=20)
    lawn = cells_in([[0, 290], [350, 320], [560, 440], [768, 500], [768, 576], [0, 576]], 0)
    assert grid[walkway].sum() >= 0.65 * grid.sum()
    assert walkway[np.unravel_index(grid.argmax(), grid.shape)]
    assert grid[lawn].sum() == 0
