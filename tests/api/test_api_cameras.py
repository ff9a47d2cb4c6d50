"""Camera routes: listing with status, add/replace/remove, persistence and the 4xx cases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from vigil.api.access import tenant_scope
from vigil.config import VigilConfig
from vigil.store import EventStore

from .conftest import StaticEngine

NEW_CAMERA: dict[str, Any] = {
    "id": "lobby",
    "name": "Lobby",
    "url": "http://user:pw@192.168.1.9/mjpeg",
    "analysis_fps": 2,
    "zones": [{"name": "desk", "polygon": [[0, 0], [50, 0], [50, 50]]}],
    "modules": {"zone": {"zones": ["desk"]}},
}


def test_list_shows_config_cameras_with_status_and_masked_urls(
    client: TestClient, engine: StaticEngine
) -> None:
    engine.set_frame("gate", 1000)
    cameras = {c["id"]: c for c in client.get("/api/cameras").json()}
    assert list(cameras) == ["gate", "harbour:dock"]
    gate = cameras["gate"]
    assert gate["url"] == "rtsp://***@10.0.0.5:554/stream1?token=***&channel=1"
    assert (gate["origin"], gate["tenant"], gate["name"]) == ("config", "default", "Main gate")
    assert gate["zones"][0]["name"] == "lot" and gate["lines"][0]["name"] == "door"
    assert gate["modules"] == {"line": {}, "zone": {}} and gate["analysis_fps"] == 5.0
    assert gate["status"] == {
        "online": True,
        "input_fps": 25.0,
        "analysed_fps": 5.0,
        "lag_ms": 120.0,
        "dropped_frames": 3,
        "reconnects": 1,
        "last_error": None,
        "width": 320,
        "height": 240,
        "decoder": None,
        "recording": "off",
        "load_shed": False,
    }
    dock = cameras["harbour:dock"]
    assert dock["status"]["online"] is False and dock["url"] == "media/dock.mp4"
    assert "s3cret" not in client.get("/api/cameras/gate").text


def test_add_camera_starts_and_persists_it(
    client: TestClient, engine: StaticEngine, store: EventStore
) -> None:
    response = client.post("/api/cameras", json=NEW_CAMERA)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/cameras/lobby"
    body = response.json()
    assert body["origin"] == "api" and body["url"] == "http://***@192.168.1.9/mjpeg"
    assert "lobby" in {c.id for c in engine.cameras()}
    stored = store.get_camera("lobby")
    assert stored is not None and stored.origin == "api"
    assert stored.config.url == "http://user:pw@192.168.1.9/mjpeg"
    assert client.get("/api/cameras/lobby").json()["name"] == "Lobby"
    duplicate = client.post("/api/cameras", json=NEW_CAMERA)
    assert duplicate.status_code == 409 and "already exists" in duplicate.json()["detail"]
    assert client.post("/api/cameras", json={**NEW_CAMERA, "id": "gate"}).status_code == 409


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({**NEW_CAMERA, "zones": [{"name": "z", "polygon": [[0, 0], [1, 1]]}]}, "zones.0.polygon"),
        ({**NEW_CAMERA, "id": "Not Valid"}, "body.id"),
        ({**NEW_CAMERA, "analysis_fps": 1000}, "body.analysis_fps"),
        ({**NEW_CAMERA, "modules": {"teleport": {}}}, "unknown analytics module"),
        ({**NEW_CAMERA, "modules": {"zone": {"zones": ["nowhere"]}}}, "nowhere"),
        ({**NEW_CAMERA, "colour": "red"}, "body.colour"),
        ({"id": "x"}, "body.url"),
        ([1, 2, 3], "body"),
    ],
)
def test_bad_camera_config_is_a_readable_422(client: TestClient, body: Any, named: str) -> None:
    response = client.post("/api/cameras", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and named in detail


def test_malformed_json_is_a_422(client: TestClient) -> None:
    response = client.post(
        "/api/cameras", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and isinstance(response.json()["detail"], str)


def test_replace_camera_keeps_masked_credentials(
    client: TestClient, engine: StaticEngine, store: EventStore
) -> None:
    shown = client.get("/api/cameras/gate").json()
    edited = {k: v for k, v in shown.items() if k not in ("origin", "status")}
    edited["lines"] = [{"name": "door", "start": [0, 60], "end": [100, 60]}]
    response = client.put("/api/cameras/gate", json=edited)
    assert response.status_code == 200, response.text
    assert response.json()["lines"][0]["start"] == [0, 60]
    running = {c.id: c for c in engine.cameras()}["gate"]
    assert running.url == "rtsp://admin:s3cret@10.0.0.5:554/stream1?token=abc&channel=1"
    assert running.lines[0].start == (0, 60)
    stored = store.get_camera("gate")
    assert stored is not None and stored.origin == "config"
    assert stored.config.lines[0].start == (0, 60)
    # A new URL replaces the credentials.
    edited["url"] = "rtsp://other:pw@10.0.0.6/s"
    client.put("/api/cameras/gate", json=edited)
    assert {c.id: c for c in engine.cameras()}["gate"].url == "rtsp://other:pw@10.0.0.6/s"


def test_disabling_stops_a_camera_and_enabling_starts_it(
    client: TestClient, engine: StaticEngine
) -> None:
    disabled = {**NEW_CAMERA, "enabled": False}
    assert client.post("/api/cameras", json=disabled).status_code == 201
    assert "lobby" not in {c.id for c in engine.cameras()}
    listed = {c["id"]: c for c in client.get("/api/cameras").json()}["lobby"]
    assert listed["enabled"] is False and listed["status"]["online"] is False
    assert client.put("/api/cameras/lobby", json=NEW_CAMERA).status_code == 200
    assert "lobby" in {c.id for c in engine.cameras()}
    assert client.put("/api/cameras/lobby", json=disabled).status_code == 200
    assert "lobby" not in {c.id for c in engine.cameras()}
    assert client.delete("/api/cameras/lobby").status_code == 204


def test_replace_errors(client: TestClient) -> None:
    mismatch = client.put("/api/cameras/gate", json={**NEW_CAMERA, "id": "lobby"})
    assert mismatch.status_code == 422 and "differs" in mismatch.json()["detail"]
    unknown = client.put("/api/cameras/lobby", json=NEW_CAMERA)
    assert unknown.status_code == 404 and "lobby" in unknown.json()["detail"]


def test_delete_api_camera_and_refuse_config_camera(
    client: TestClient, engine: StaticEngine, store: EventStore
) -> None:
    client.post("/api/cameras", json=NEW_CAMERA)
    assert client.delete("/api/cameras/lobby").status_code == 204
    assert "lobby" not in {c.id for c in engine.cameras()}
    assert store.get_camera("lobby") is None
    assert client.get("/api/cameras/lobby").status_code == 404
    assert client.delete("/api/cameras/lobby").status_code == 404
    refused = client.delete("/api/cameras/gate")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "camera 'gate' is declared in the config file; remove it there"
    )


@pytest.mark.parametrize("camera_id", ["UPPER", "a.b", "-x", "x" * 65, "a%00b", "%2e%2e"])
def test_hostile_camera_ids_are_a_422(client: TestClient, camera_id: str) -> None:
    response = client.get(f"/api/cameras/{camera_id}")
    # NUL is refused in every path, before the route (vigil.api.middleware.NulMiddleware).
    named = "NUL" if "%00" in camera_id else "camera_id"
    assert response.status_code == 422 and named in response.json()["detail"]


def test_path_traversal_does_not_reach_anything(client: TestClient) -> None:
    assert client.get("/api/cameras/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
    assert client.get("/api/cameras/../../etc/passwd").status_code == 404


def test_api_cameras_are_kept_for_the_next_start(
    config: VigilConfig, store: EventStore, client: TestClient
) -> None:
    assert client.post("/api/cameras", json=NEW_CAMERA).status_code == 201
    # What the next start reads to restart every camera.
    origins = {c.config.id: c.origin for c in store.sync_config_cameras(config.cameras)}
    assert origins == {"gate": "config", "harbour:dock": "config", "lobby": "api"}


def test_tenant_scope_hides_other_tenants_cameras(app: FastAPI, client: TestClient) -> None:
    app.dependency_overrides[tenant_scope] = lambda: ["harbour"]
    assert [c["id"] for c in client.get("/api/cameras").json()] == ["harbour:dock"]
    assert client.get("/api/cameras/gate").status_code == 404
    assert client.get("/api/cameras/gate/stats").status_code == 404
    assert client.get("/api/cameras/gate/live.jpg").status_code == 404
    forbidden = client.post("/api/cameras", json=NEW_CAMERA)
    assert forbidden.status_code == 403
