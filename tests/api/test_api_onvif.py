"""ONVIF through the API against a small ONVIF device on 127.0.0.1 (tests/onvif_device.py)
whose profile streams the GStreamer RTSP test camera: discovery, device information,
profiles, the stream URI (which then really plays), and PTZ presets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.media import CLIP
from tests.onvif_device import OnvifDevice, running_onvif_device
from tests.sources.rtsp_process import RtspServerProcess, rtsp_server_unavailable
from vigil.config import VigilConfig


@pytest.fixture
def config(config: VigilConfig) -> VigilConfig:
    """The test device and its RTSP stream run on 127.0.0.1: the source policy admits that one
    loopback address on purpose (a /32 entry, docs/security.md); it refuses loopback otherwise
    (tests/security/test_setup_source_policy.py)."""
    config.sources.allow_networks = ["127.0.0.1/32"]
    return config


@pytest.fixture(scope="module")
def rtsp_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = rtsp_server_unavailable()
    if reason is not None:
        pytest.skip(reason)
    server = RtspServerProcess(CLIP, log_path=tmp_path_factory.mktemp("rtsp") / "rtsp.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def device(rtsp_url: str) -> Iterator[tuple[OnvifDevice, int]]:
    with running_onvif_device(rtsp_url) as running:
        yield running


def credentials(device: OnvifDevice, password: str | None = None) -> dict[str, object]:
    return {
        "host": "127.0.0.1",
        "port": device.port,
        "username": device.username,
        "password": device.password if password is None else password,
    }


def test_discovery_finds_the_device(client: TestClient, device: tuple[OnvifDevice, int]) -> None:
    camera, udp_port = device
    found = client.post(
        "/api/onvif/discover", json={"address": "127.0.0.1", "port": udp_port, "timeout_s": 1}
    ).json()
    assert [(f["host"], f["port"], f["name"]) for f in found] == [
        ("127.0.0.1", camera.port, "LoopbackPTZ")
    ]


def test_profiles_give_a_stream_that_plays(
    client: TestClient, device: tuple[OnvifDevice, int], rtsp_url: str
) -> None:
    camera, _ = device
    body = client.post("/api/onvif/device", json=credentials(camera)).json()
    assert (body["manufacturer"], body["model"]) == ("Vigil Test", "Loopback PTZ")
    (profile,) = body["profiles"]
    assert profile["token"] == "main" and profile["ptz"] is True
    assert (profile["width"], profile["height"], profile["encoding"]) == (768, 576, "H264")
    assert profile["stream_uri"] == rtsp_url
    probe = client.post("/api/cameras/probe", json={"url": profile["stream_uri"]}).json()
    assert probe["ok"] is True, probe
    assert (probe["width"], probe["height"]) == (768, 576)


def test_wrong_password_is_named(client: TestClient, device: tuple[OnvifDevice, int]) -> None:
    camera, _ = device
    response = client.post("/api/onvif/device", json=credentials(camera, "nope"))
    assert response.status_code == 422
    assert "user name or password" in response.json()["detail"]
    assert "nope" not in response.text


def test_ptz_presets_list_go_to_and_save(
    client: TestClient, device: tuple[OnvifDevice, int]
) -> None:
    camera, _ = device
    ptz = {**credentials(camera), "profile": "main"}
    presets = client.post("/api/onvif/ptz/presets", json=ptz).json()
    assert presets == [{"token": "1", "name": "Home"}, {"token": "2", "name": "Gate"}]
    assert client.post("/api/onvif/ptz/goto", json={**ptz, "preset": "2"}).status_code == 204
    assert camera.position == "2"
    missing = client.post("/api/onvif/ptz/goto", json={**ptz, "preset": "9"})
    assert missing.status_code == 422 and "No such preset" in missing.json()["detail"]
    saved = client.post("/api/onvif/ptz/save", json={**ptz, "name": "Door"}).json()
    assert saved == {"token": "3", "name": "Door"}
    assert camera.presets["3"] == "Door" and camera.position == "3"


def test_unreachable_camera_is_named(client: TestClient, tmp_path: Path) -> None:
    response = client.post("/api/onvif/device", json={"host": "127.0.0.1", "port": 1})
    assert response.status_code == 422
    assert "cannot be reached" in response.json()["detail"]


@pytest.mark.parametrize("host", [".", "[", "bad host", "a..b"])
def test_a_host_that_is_no_address_is_refused(client: TestClient, host: str) -> None:
    response = client.post("/api/onvif/device", json={"host": host})
    assert response.status_code == 422 and "host" in response.json()["detail"]
