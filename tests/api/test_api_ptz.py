"""A saved PTZ camera against the loopback ONVIF device (tests/onvif_device.py): its ONVIF
credentials are stored encrypted and never shown, moving it to a preset switches its analysis
to that preset's zones and lines (modules paused while it moves), and left alone it returns to
its home preset by itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.media import CLIP
from tests.onvif_device import OnvifDevice, running_onvif_device
from vigil.auth.secrets import SecretBox
from vigil.config import VigilConfig
from vigil.sources.policy import SourcePolicy
from vigil.store import EventStore
from vigil.store.schema import cameras

from .conftest import ClusterUnderTest, StaticEngine

HOME_ZONE = {"name": "lot", "polygon": [[10, 10], [300, 10], [300, 200], [10, 200]]}
GATE_ZONE = {"name": "lot", "polygon": [[400, 300], [700, 300], [700, 550], [400, 550]]}
GATE_LINE = {"name": "barrier", "start": [400, 420], "end": [700, 420]}


@pytest.fixture
def config(config: VigilConfig) -> VigilConfig:
    """The device runs on 127.0.0.1: the source policy admits that one address on purpose."""
    config.sources.file_roots = [CLIP.parent]
    config.sources.allow_networks = ["127.0.0.1/32"]
    return config


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    """With the key `vigil serve` uses, so credentials are encrypted at rest."""
    box = SecretBox.from_key_file(tmp_path / "keys" / "vigil.key")
    event_store = EventStore(f"sqlite:///{tmp_path / 'ptz.db'}", secrets=box)
    yield event_store
    event_store.close()


@pytest.fixture
def device() -> Iterator[OnvifDevice]:
    # GotoPreset needs no stream: the device's profile URI is never opened here.
    with running_onvif_device("rtsp://127.0.0.1:8554/unused") as (running, _udp_port):
        yield running


def ptz_camera(device: OnvifDevice, **ptz: Any) -> dict[str, Any]:
    return {
        "id": "yard",
        "url": str(CLIP),
        "zones": [HOME_ZONE],
        "modules": {"zone": {"zones": ["lot"]}},
        "ptz": {
            "onvif_url": f"http://{device.username}:{device.password}@127.0.0.1:{device.port}",
            "profile": "main",
            "home_preset": "1",
            "settle_s": 0.2,
            "presets": {"2": {"zones": [GATE_ZONE], "lines": [GATE_LINE]}},
            **ptz,
        },
    }


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.05)


def running(engine: StaticEngine | ClusterUnderTest) -> Any:
    """What the pipeline analyses: on a cluster, the worker's, which the API only reaches
    through the store."""
    pipeline = engine.pipeline if isinstance(engine, ClusterUnderTest) else engine
    return next(c for c in pipeline.cameras() if c.id == "yard")


def analysing(
    engine: StaticEngine | ClusterUnderTest, check: Callable[[Any], bool], what: str
) -> Any:
    """The camera as analysed once `check` holds: at once on a single node, by the worker's
    next round on a cluster."""
    wait_until(lambda: check(running(engine)), 10, what)
    return running(engine)


def test_onvif_credentials_are_encrypted_and_never_returned(
    client: TestClient, store: EventStore, device: OnvifDevice
) -> None:
    assert client.post("/api/cameras", json=ptz_camera(device)).status_code == 201
    with store.engine.connect() as connection:
        raw = " ".join(str(row) for row in connection.execute(sa.select(cameras.c.config)))
    assert device.password not in raw and "enc:v1:" in raw
    for path in ("/api/cameras", "/api/cameras/yard", "/api/cameras/export.yaml"):
        text = client.get(path).text
        assert device.password not in text and "***@127.0.0.1" in text, path
    shown = client.get("/api/cameras/yard").json()
    assert shown["ptz"]["onvif_url"] == f"http://***@127.0.0.1:{device.port}"

    # Saving the camera back as shown (masked) keeps the stored credentials: it still moves.
    shown["ptz"]["return_home_s"] = 600
    body = {k: v for k, v in shown.items() if k not in ("origin", "status")}
    assert client.put("/api/cameras/yard", json=body).status_code == 200
    assert client.post("/api/cameras/yard/ptz/goto", json={"preset": "2"}).status_code == 204
    assert device.position == "2"


def test_a_preset_brings_its_own_geometry_and_modules_pause_while_moving(
    client: TestClient, engine: StaticEngine | ClusterUnderTest, device: OnvifDevice
) -> None:
    # Settling takes long enough for a cluster's worker to see the move first.
    client.post("/api/cameras", json=ptz_camera(device, settle_s=3.0))
    assert client.post("/api/cameras/yard/ptz/goto", json={"preset": "2"}).status_code == 204
    assert device.position == "2"
    moving = analysing(engine, lambda c: c.modules == {}, "modules pause while it moves")
    assert [z.polygon[0] for z in moving.zones] == [(400, 300)]
    state = client.get("/api/cameras/yard/ptz").json()
    assert state["preset"] == "2" and state["moving"] is True

    settled = analysing(engine, lambda c: c.modules != {}, "modules resume after settling")
    assert settled.modules == {"zone": {"zones": ["lot"]}}
    assert [z.polygon[0] for z in settled.zones] == [(400, 300)]
    assert [line.name for line in settled.lines] == ["barrier"]
    assert client.get("/api/cameras/yard/ptz").json()["moving"] is False
    # What is saved is the camera's own geometry; the preset's is what it analyses now, and
    # goes on analysing when its settings are saved again while it is there.
    shown = client.get("/api/cameras/yard").json()
    assert shown["zones"][0]["polygon"][0] == [10, 10]
    body = {k: v for k, v in shown.items() if k not in ("origin", "status")}
    assert client.put("/api/cameras/yard", json={**body, "name": "Yard"}).status_code == 200
    saved_again = analysing(engine, lambda c: c.name == "Yard", "the saved name is analysed")
    assert [line.name for line in saved_again.lines] == ["barrier"]


def test_left_alone_it_returns_to_its_home_preset(
    client: TestClient, engine: StaticEngine | ClusterUnderTest, device: OnvifDevice
) -> None:
    client.post("/api/cameras", json=ptz_camera(device, return_home_s=0.5))
    client.post("/api/cameras/yard/ptz/goto", json={"preset": "2"})
    assert device.position == "2"
    home_in = client.get("/api/cameras/yard/ptz").json()["home_in_s"]
    assert home_in is not None and 0 < home_in <= 0.5

    wait_until(lambda: device.position == "1", 10, "the camera returns to preset 1")
    home = analysing(engine, lambda c: c.modules != {} and c.lines == [], "analysis at home")
    assert [z.polygon[0] for z in home.zones] == [(10, 10)] and home.lines == []
    state = client.get("/api/cameras/yard/ptz").json()
    assert state["preset"] == "1" and state["home_in_s"] is None


def test_pan_tilt_zoom_leave_every_preset_until_the_camera_goes_home(
    client: TestClient, engine: StaticEngine | ClusterUnderTest, device: OnvifDevice
) -> None:
    # Home after long enough for a cluster's worker to see the step and the save first.
    client.post("/api/cameras", json=ptz_camera(device, return_home_s=3.0))
    client.post("/api/cameras/yard/ptz/goto", json={"preset": "2"})
    analysing(engine, lambda c: c.modules != {} and c.lines != [], "modules resume at preset 2")

    step = {"pan": 0.25, "tilt": -0.1, "zoom": 0.5}
    assert client.post("/api/cameras/yard/ptz/move", json=step).status_code == 204
    assert device.moves == [(0.25, -0.1, 0.5)] and device.position is None
    analysing(engine, lambda c: c.modules == {}, "no zone fits a picture at no preset")
    state = client.get("/api/cameras/yard/ptz").json()
    assert state["off_preset"] is True and state["home_in_s"] is not None
    # Saving the camera while it is off every preset keeps its modules paused.
    shown = client.get("/api/cameras/yard").json()
    body = {k: v for k, v in shown.items() if k not in ("origin", "status")}
    assert client.put("/api/cameras/yard", json={**body, "name": "Yard"}).status_code == 200
    assert analysing(engine, lambda c: c.name == "Yard", "the saved name").modules == {}

    wait_until(lambda: device.position == "1", 10, "the camera returns to its home preset")
    home = analysing(engine, lambda c: c.modules != {}, "analysis resumes at home")
    assert [z.polygon[0] for z in home.zones] == [(10, 10)]
    assert client.get("/api/cameras/yard/ptz").json()["off_preset"] is False

    still = client.post("/api/cameras/yard/ptz/move", json={"pan": 0, "tilt": 0, "zoom": 0})
    assert still.status_code == 422 and "pan, tilt and zoom" in still.text
    too_far = client.post("/api/cameras/yard/ptz/move", json={"pan": 2})
    assert too_far.status_code == 422 and "pan" in too_far.text
    assert len(device.moves) == 1


def test_a_new_move_postpones_the_return_home(
    client: TestClient, device: OnvifDevice
) -> None:
    client.post("/api/cameras", json=ptz_camera(device, return_home_s=1.5))
    client.post("/api/cameras/yard/ptz/goto", json={"preset": "2"})
    time.sleep(1.0)
    client.post("/api/cameras/yard/ptz/goto", json={"preset": "2"})
    time.sleep(1.0)  # 2 s after the first move, 1 s after the second
    assert device.position == "2"
    wait_until(lambda: device.position == "1", 10, "the camera returns home in the end")


def test_bad_ptz_settings_and_moves_are_refused_by_field(
    client: TestClient, device: OnvifDevice
) -> None:
    bad = ptz_camera(device, return_home_s=30, home_preset=None)
    answer = client.post("/api/cameras", json=bad)
    assert answer.status_code == 422 and "home_preset" in answer.text
    bad = ptz_camera(device, onvif_url="rtsp://127.0.0.1/x")
    answer = client.post("/api/cameras", json=bad)
    assert answer.status_code == 422 and "onvif_url" in answer.text
    # A preset whose zones lack the one a module watches.
    bad = ptz_camera(device, presets={"2": {"zones": []}})
    answer = client.post("/api/cameras", json=bad)
    assert answer.status_code == 422 and "ptz.presets.2" in answer.text

    client.post("/api/cameras", json=ptz_camera(device))
    unknown = client.post("/api/cameras/yard/ptz/goto", json={"preset": "9"})
    assert unknown.status_code == 422 and "did not move" in unknown.json()["detail"]
    wrong = ptz_camera(device)
    wrong["ptz"]["onvif_url"] = f"http://admin:wrong@127.0.0.1:{device.port}"
    client.put("/api/cameras/yard", json=wrong)
    refused = client.post("/api/cameras/yard/ptz/goto", json={"preset": "2"})
    assert refused.status_code == 422 and "user name or password" in refused.json()["detail"]
    assert device.position is None
    client.post("/api/cameras", json={"id": "fixed", "url": str(CLIP)})
    no_ptz = client.post("/api/cameras/fixed/ptz/goto", json={"preset": "1"})
    assert no_ptz.status_code == 422 and no_ptz.json()["detail"].startswith("ptz:")
    assert client.post("/api/cameras/nope/ptz/goto", json={"preset": "1"}).status_code == 404


def test_an_onvif_address_the_source_policy_refuses_is_never_contacted(
    client: TestClient, device: OnvifDevice
) -> None:
    metadata = ptz_camera(device, onvif_url="http://admin:x@169.254.169.254:80")
    refused = client.post("/api/cameras", json=metadata)
    assert refused.status_code == 422
    assert refused.json()["detail"] == "body.ptz.onvif_url: refused by policy"

    # Saved while the policy admitted it, moved after the policy no longer does.
    assert client.post("/api/cameras", json=ptz_camera(device)).status_code == 201
    client.app.state.ptz.policy = SourcePolicy()  # type: ignore[attr-defined]
    moved = client.post("/api/cameras/yard/ptz/goto", json={"preset": "2"})
    assert moved.status_code == 422
    assert moved.json()["detail"] == "ptz.onvif_url: refused by policy"
    assert device.calls == [] and device.position is None


def test_a_camera_deleted_and_added_again_starts_afresh(
    client: TestClient, device: OnvifDevice
) -> None:
    client.post("/api/cameras", json=ptz_camera(device, return_home_s=0.5))
    client.post("/api/cameras/yard/ptz/goto", json={"preset": "2"})
    assert client.delete("/api/cameras/yard").status_code == 204
    client.post("/api/cameras", json=ptz_camera(device))
    state = client.get("/api/cameras/yard/ptz").json()
    assert state["preset"] is None and state["home_in_s"] is None
    calls = len(device.calls)
    time.sleep(1.0)  # twice the old camera's return delay: its timer is gone
    assert device.position == "2" and len(device.calls) == calls
