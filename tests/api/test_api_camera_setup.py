"""Setting up cameras through the API: probing a URL (blurred preview or the reason it
failed), validating settings field by field, bulk import/export and copying a layout."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.media import CLIP, FACE_PHOTO
from vigil.api.access import tenant_scope
from vigil.config import VigilConfig
from vigil.modules.registry import registry
from vigil.modules.schedules import schedule_fields
from vigil.store import EventStore
from vigil.vision.faces import FaceDetector

from .conftest import StaticEngine


@pytest.fixture
def config(config: VigilConfig, tmp_path: Path) -> VigilConfig:
    """The shared app config, with a source policy that admits this file's test cameras on
    purpose (docs/security.md, "Camera sources"): the clips below the repository's media
    directory and `tmp_path/clips`, the password camera on 127.0.0.1 (a /32 entry admits
    loopback explicitly) and the 10.0.0.0/8 network of the main-stream example. Everything
    else stays refused."""
    (tmp_path / "clips").mkdir()
    config.sources.file_roots = [CLIP.parent, FACE_PHOTO.parent, tmp_path / "clips"]
    config.sources.allow_networks = ["127.0.0.1/32", "10.0.0.0/8"]
    return config


def decode_preview(data_url: str) -> np.ndarray:
    head, _, payload = data_url.partition(",")
    assert head == "data:image/jpeg;base64"
    image = cv2.imdecode(np.frombuffer(base64.b64decode(payload), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


@pytest.fixture
def password_camera() -> Iterator[str]:
    """An HTTP snapshot camera that answers only user `viewer` with password `right`; any
    other credentials get 401, as from a real camera. Yields its URL without credentials."""
    frame = cv2.imread(str(FACE_PHOTO))
    jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
    expected = "Basic " + base64.b64encode(b"viewer:right").decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            if self.headers.get("Authorization") == expected:
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(jpeg)))
                self.end_headers()
                self.wfile.write(jpeg)
                return
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="camera"')
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}/snapshot.jpg"
    finally:
        server.shutdown()
        server.server_close()


def test_probe_of_a_clip_returns_its_size_and_a_preview(client: TestClient) -> None:
    body = client.post("/api/cameras/probe", json={"url": str(CLIP)}).json()
    assert body["ok"] is True and body["problem"] is None
    assert (body["width"], body["height"]) == (768, 576)
    preview = decode_preview(body["preview"])
    assert preview.shape == (576, 768, 3)


def test_probe_preview_has_no_detectable_face(client: TestClient, config: VigilConfig) -> None:
    detector = FaceDetector(config.privacy.face_model, config.privacy.face_threshold)
    original = cv2.imread(str(FACE_PHOTO))
    assert len(detector.detect(original)) >= 1, "the photo must show faces to mean anything"
    body = client.post("/api/cameras/probe", json={"url": str(FACE_PHOTO)}).json()
    assert body["ok"] is True, body
    assert len(detector.detect(decode_preview(body["preview"]))) == 0


def test_probe_masks_the_privacy_masks_it_is_given(client: TestClient) -> None:
    mask = {"name": "window", "polygon": [[0, 0], [200, 0], [200, 200], [0, 200]]}
    body = client.post(
        "/api/cameras/probe", json={"url": str(CLIP), "privacy_masks": [mask]}
    ).json()
    preview = decode_preview(body["preview"])
    assert preview[10:190, 10:190].max() <= 8  # black, give or take JPEG ringing
    assert preview[300:500, 300:700].max() > 50


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("rtsp://127.0.0.1:1/stream", "refused"),
        ("http://127.0.0.1:1/mjpeg", "refused"),
        ("{clips}/no-such-clip.mp4", "not_found"),
        ("{clips}/notes.mp4", "not_video"),
        ("rtsp://camera.invalid/stream", "unreachable"),
        ("README.md", "policy"),  # outside sources.file_roots
    ],
)
def test_probe_says_why_a_url_fails(
    client: TestClient, tmp_path: Path, url: str, problem: str
) -> None:
    clips = tmp_path / "clips"
    (clips / "notes.mp4").write_text("a text file with a video file's name\n")
    url = url.format(clips=clips)
    response = client.post("/api/cameras/probe", json={"url": url, "timeout_s": 3})
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["problem"], body["preview"]) == (False, problem, None)
    assert body["message"]


def test_probe_with_a_wrong_password_says_so_without_showing_it(
    client: TestClient, password_camera: str
) -> None:
    wrong = client.post(
        "/api/cameras/probe", json={"url": f"http://viewer:wrong@{password_camera}"}
    )
    body = wrong.json()
    assert (body["ok"], body["problem"]) == (False, "auth")
    assert "password" in body["message"] and "wrong" not in body["message"]
    right = client.post(
        "/api/cameras/probe", json={"url": f"http://viewer:right@{password_camera}"}
    )
    assert right.json()["ok"] is True


def test_probe_of_a_masked_url_uses_stored_credentials_of_own_cameras_only(
    app: FastAPI, client: TestClient, password_camera: str
) -> None:
    camera = {"id": "yard", "url": f"http://viewer:right@{password_camera}", "enabled": False}
    assert client.post("/api/cameras", json=camera).status_code == 201
    shown = client.get("/api/cameras/yard").json()["url"]
    assert shown == f"http://***@{password_camera}"
    probe = {"url": shown, "camera_id": "yard"}
    assert client.post("/api/cameras/probe", json=probe).json()["ok"] is True
    # Another tenant naming the camera gets no use of its credentials.
    app.dependency_overrides[tenant_scope] = lambda: ["harbour"]
    body = client.post("/api/cameras/probe", json=probe).json()
    assert (body["ok"], body["problem"]) == (False, "auth")


def problems_of(client: TestClient, camera: dict[str, Any]) -> dict[str, str]:
    body = client.post("/api/cameras/validate", json=camera).json()
    return {item["field"]: item["message"] for item in body["problems"]}


def test_validate_names_the_field_of_each_problem(client: TestClient) -> None:
    base = {"id": "yard", "url": str(CLIP)}
    assert client.post("/api/cameras/validate", json=base).json() == {"valid": True, "problems": []}
    bow_tie = {"name": "bow", "polygon": [[0, 0], [100, 100], [100, 0], [0, 100]]}
    problems = problems_of(client, {**base, "zones": [bow_tie]})
    assert "crosses itself" in problems["zones.0.polygon"]
    point = {"name": "l", "start": [5, 5], "end": [5, 5]}
    problems = problems_of(client, {**base, "lines": [point]})
    assert "zero length" in problems["lines.0"]
    problems = problems_of(client, {**base, "modules": {"line": {"min_crossing_frames": 0}}})
    assert set(problems) == {"modules.line.min_crossing_frames"}
    problems = problems_of(client, {**base, "id": "Bad Id"})
    assert "lower-case" in problems["id"]


def test_put_refuses_a_self_intersecting_zone_naming_it(client: TestClient) -> None:
    camera = client.get("/api/cameras/gate").json()
    camera["zones"] = [{"name": "lot", "polygon": [[0, 0], [100, 100], [100, 0], [0, 100]]}]
    response = client.put("/api/cameras/gate", json=camera)
    assert response.status_code == 422
    assert "zones.0.polygon" in response.json()["detail"]
    assert "crosses itself" in response.json()["detail"]


def test_main_stream_url_is_kept_masked_and_restored(client: TestClient, store: EventStore) -> None:
    camera = {
        "id": "entry",
        "url": str(CLIP),
        "main_url": "rtsp://rec:pw@10.0.0.9/main",
        "enabled": False,
    }
    assert client.post("/api/cameras", json=camera).status_code == 201
    shown = client.get("/api/cameras/entry").json()
    assert shown["main_url"] == "rtsp://***@10.0.0.9/main"
    shown.pop("origin"), shown.pop("status")
    assert client.put("/api/cameras/entry", json={**shown, "name": "Entry"}).status_code == 200
    stored = store.get_camera("entry")
    assert stored is not None and stored.config.main_url == "rtsp://rec:pw@10.0.0.9/main"


def test_yaml_export_import_round_trip_with_errors_per_row(
    client: TestClient, engine: StaticEngine, store: EventStore
) -> None:
    exported = yaml.safe_load(client.get("/api/cameras/export.yaml").text)
    assert sorted(c["id"] for c in exported["cameras"]) == ["gate", "harbour:dock"]
    assert "s3cret" not in client.get("/api/cameras/export.yaml").text
    text = yaml.safe_dump(
        {
            "cameras": [
                {
                    "id": "north",
                    "url": str(CLIP),
                    "lines": [{"name": "in", "start": [0, 0], "end": [10, 0]}],
                },
                {
                    "id": "south",
                    "url": str(CLIP),
                    "zones": [{"name": "z", "polygon": [[0, 0], [9, 9], [9, 0], [0, 9]]}],
                },
                {"id": "gate", "url": "rtsp://x/y"},
                {"id": "north", "url": str(CLIP)},
            ]
        }
    )
    body = client.post("/api/cameras/import?format=yaml", content=text).json()
    assert body["created"] == ["north"] and body["updated"] == []
    rejected = {(item["row"], item["camera_id"]): item["problems"] for item in body["rejected"]}
    assert set(rejected) == {(2, "south"), (3, "gate"), (4, "north")}
    assert rejected[(2, "south")][0]["field"] == "zones.0.polygon"
    assert "already exists" in rejected[(3, "gate")][0]["message"]
    assert "north" in {c.id for c in engine.cameras()} and store.get_camera("north") is not None
    assert store.get_camera("south") is None


def test_csv_import_dry_run_and_export(client: TestClient, store: EventStore) -> None:
    text = f"id,name,url,analysis_fps\nlane-1,Lane 1,{CLIP},2\nlane-2,Lane 2,{CLIP},99\n"
    body = client.post("/api/cameras/import?format=csv&dry_run=true", content=text).json()
    assert body["created"] == ["lane-1"] and body["dry_run"] is True
    assert body["rejected"][0]["row"] == 2
    assert body["rejected"][0]["problems"][0]["field"] == "analysis_fps"
    assert store.get_camera("lane-1") is None
    client.post("/api/cameras/import?format=csv", content=text)
    exported = client.get("/api/cameras/export.csv").text.splitlines()
    assert exported[0] == "id,name,tenant,url,main_url,analysis_fps,enabled"
    assert any(line.startswith("lane-1,Lane 1,default,") for line in exported)
    bad = client.post("/api/cameras/import?format=csv", content="name,where\nx,y\n")
    assert bad.status_code == 422 and "id and url" in bad.json()["detail"]


def test_apply_layout_to_other_cameras(client: TestClient, engine: StaticEngine) -> None:
    for camera_id in ("cam-a", "cam-b"):
        client.post("/api/cameras", json={"id": camera_id, "url": str(CLIP), "name": camera_id})
    body = client.post(
        "/api/cameras/gate/apply-to",
        json={"cameras": ["cam-a", "cam-b", "nope"], "parts": ["zones", "lines", "modules"]},
    ).json()
    assert body["updated"] == ["cam-a", "cam-b"]
    assert body["rejected"][0]["camera_id"] == "nope"
    copied = client.get("/api/cameras/cam-b").json()
    assert [z["name"] for z in copied["zones"]] == ["lot"]
    assert copied["modules"] == {"line": {}, "zone": {}} and copied["name"] == "cam-b"
    assert copied["url"] == str(CLIP)
    running = {c.id: c for c in engine.cameras()}
    assert [line.name for line in running["cam-a"].lines] == ["door"]


def test_apply_schedules_keeps_the_targets_own_module_settings(
    client: TestClient, engine: StaticEngine
) -> None:
    """Opening hours copied from one camera to others; each keeps its own zones and tuning,
    and a module the target does not run is not switched on by it."""
    zone = {"name": "yard", "polygon": [[10, 10], [200, 10], [200, 200], [10, 200]]}
    hours = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "19:00"}]
    client.post(
        "/api/cameras",
        json={
            "id": "office",
            "url": str(CLIP),
            "zones": [zone],
            "modules": {
                "intrusion": {"timezone": "Europe/Berlin", "allowed": hours, "classes": ["car"]},
                "count_anomaly": {"timezone": "Europe/Berlin"},
            },
        },
    )
    tuned = {"timezone": "UTC", "allowed": [], "min_duration_s": 7.5, "classes": ["person"]}
    client.post(
        "/api/cameras",
        json={"id": "store", "url": str(CLIP), "zones": [zone], "modules": {"intrusion": tuned}},
    )
    client.post("/api/cameras", json={"id": "plain", "url": str(CLIP)})

    body = client.post(
        "/api/cameras/office/apply-to", json={"cameras": ["store", "plain"], "parts": ["schedules"]}
    ).json()
    assert body == {"updated": ["store", "plain"], "rejected": []}
    store = client.get("/api/cameras/store").json()
    assert store["modules"] == {
        "intrusion": {
            "timezone": "Europe/Berlin",
            "allowed": hours,
            "min_duration_s": 7.5,
            "classes": ["person"],
        }
    }
    assert client.get("/api/cameras/plain").json()["modules"] == {}
    running = {c.id: c for c in engine.cameras()}
    assert running["store"].modules["intrusion"]["timezone"] == "Europe/Berlin"

    # A schedule the source leaves at its default is taken as the default, not kept.
    client.put(
        "/api/cameras/office",
        json={"id": "office", "url": str(CLIP), "zones": [zone], "modules": {"intrusion": {}}},
    )
    client.post("/api/cameras/office/apply-to", json={"cameras": ["store"], "parts": ["schedules"]})
    assert client.get("/api/cameras/store").json()["modules"] == {
        "intrusion": {"min_duration_s": 7.5, "classes": ["person"]}
    }


def test_schedule_settings_are_found_from_the_module_models() -> None:
    modules = registry()
    assert schedule_fields(modules["intrusion"].settings_model) == {"timezone", "allowed"}
    assert schedule_fields(modules["count_anomaly"].settings_model) == {"timezone"}
    assert schedule_fields(modules["line"].settings_model) == set()


def test_a_camera_saved_back_as_shown_keeps_every_setting(
    client: TestClient, store: EventStore
) -> None:
    """The Cameras page edits what GET shows and PUTs it back: nothing it was not shown may be
    lost on the way (recording, detector, hardware decoding)."""
    camera = {
        "id": "bay-7",
        "url": str(CLIP),
        "hardware_decode": True,
        "detector": {"score_threshold": 0.5},
        "recording": {"mode": "events", "pre_roll_s": 8},
        "retention": {"events_days": 3},
    }
    assert client.post("/api/cameras", json=camera).status_code == 201
    before = store.get_camera("bay-7")
    shown = client.get("/api/cameras/bay-7").json()
    body = {k: v for k, v in shown.items() if k not in ("origin", "status")}
    assert client.put("/api/cameras/bay-7", json=body).status_code == 200
    after = store.get_camera("bay-7")
    assert before is not None and after is not None
    assert after.config == before.config
    assert after.config.recording is not None and after.config.recording.mode == "events"
