"""The site map API: floor plan upload (checked, re-encoded, faces blurred), camera places,
tile settings and the tile proxy, against a real store and a local tile server."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.media import FACE_PHOTO
from vigil.api.access import tenant_scope
from vigil.config import VigilConfig
from vigil.vision.faces import FaceDetector


def png(width: int, height: int) -> bytes:
    image = np.full((height, width, 3), 200, np.uint8)
    cv2.rectangle(image, (10, 10), (width - 10, height - 10), (40, 40, 40), 3)
    return cv2.imencode(".png", image)[1].tobytes()


def plan(data: bytes, kind: str = "image/png") -> dict[str, str]:
    return {"image": f"data:{kind};base64,{base64.b64encode(data).decode()}"}


@pytest.fixture
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """A tile server on 127.0.0.1 that answers PNG tiles and records the paths asked for."""
    asked: list[str] = []
    body = png(256, 256)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png", asked
    finally:
        server.shutdown()
        server.server_close()


def test_plan_upload_places_and_read_back(client: TestClient) -> None:
    empty = client.get("/api/site").json()
    assert (empty["plan"], empty["places"]) == (False, [])
    assert client.get("/api/site/plan").status_code == 404
    site = client.put("/api/site/plan", json=plan(png(800, 600))).json()
    assert (site["plan"], site["width"], site["height"]) == (True, 800, 600)
    served = client.get("/api/site/plan")
    assert served.headers["content-type"] == "image/jpeg"
    decoded = cv2.imdecode(np.frombuffer(served.content, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (600, 800, 3)
    place = {"x": 120, "y": 340, "direction_deg": 90, "fov_deg": 60, "range": 150}
    site = client.put("/api/site/cameras/gate", json=place).json()
    assert site["places"] == [{**place, "camera_id": "gate", "name": "Main gate"}]
    bad = client.put("/api/site/cameras/gate", json={**place, "fov_deg": 0})
    assert bad.status_code == 422 and "fov_deg" in bad.json()["detail"]
    assert client.put("/api/site/cameras/nope", json=place).status_code == 404
    assert client.delete("/api/site/cameras/gate").json()["places"] == []


def test_plan_must_be_an_image_and_is_face_blurred(client: TestClient, config: VigilConfig) -> None:
    refused = client.put("/api/site/plan", json=plan(b"<svg onload=alert(1)>"))
    assert refused.status_code == 422 and "PNG or JPEG" in refused.json()["detail"]
    detector = FaceDetector(config.privacy.face_model, config.privacy.face_threshold)
    photo = FACE_PHOTO.read_bytes()
    original = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    assert len(detector.detect(original)) >= 1
    client.put("/api/site/plan", json=plan(photo, "image/jpeg"))
    not_base64 = client.put("/api/site/plan", json={"image": "data:image/png;base64,@@@"})
    assert not_base64.status_code == 422 and "base64" in not_base64.json()["detail"]
    not_ascii = client.put("/api/site/plan", json={"image": "\u0080"})
    assert not_ascii.status_code == 422 and "base64" in not_ascii.json()["detail"]
    served = client.get("/api/site/plan").content
    image = cv2.imdecode(np.frombuffer(served, np.uint8), cv2.IMREAD_COLOR)
    assert len(detector.detect(image)) == 0


def test_tiles_come_through_the_server(
    client: TestClient, tile_server: tuple[str, list[str]]
) -> None:
    url, asked = tile_server
    assert client.get("/api/site/tiles/1/0/0").status_code == 404  # none configured yet
    bad = client.put("/api/site/settings", json={"tile_url": "ftp://tiles/{z}/{x}"})
    assert bad.status_code == 422 and "tile_url" in bad.json()["detail"]
    settings = {"tile_url": url, "center": [52.37, 4.89], "zoom": 17}
    assert client.put("/api/site/settings", json=settings).json()["tile_url"] == url
    tile = client.get("/api/site/tiles/3/4/5")
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    client.get("/api/site/tiles/3/4/5")
    assert asked == ["/3/4/5.png"]  # the second time from the cache
    assert client.get("/api/site/tiles/1/2/0").status_code == 404  # outside zoom 1's grid


def test_other_tenants_places_are_not_shown(app: FastAPI, client: TestClient) -> None:
    place = {"x": 1, "y": 2}
    client.put("/api/site/cameras/gate", json=place)  # tenant default
    client.put("/api/site/cameras/harbour:dock", json=place)  # tenant harbour
    app.dependency_overrides[tenant_scope] = lambda: ["harbour"]
    site = client.get("/api/site").json()
    assert site["tenant"] == "harbour"
    assert [p["camera_id"] for p in site["places"]] == ["harbour:dock"]
    assert client.put("/api/site/cameras/gate", json=place).status_code == 404
    assert client.get("/api/site", params={"tenant": "default"}).status_code == 404
