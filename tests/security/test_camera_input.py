"""Hostile camera input through the API: refused with a 422 that names the field, never a
500, never a change to the running camera; the refusal says nothing about the server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from tests.security.conftest import World
from vigil.store.schema import cameras

GOOD: dict[str, Any] = {
    "id": "alpha:new",
    "name": "Alpha new",
    "tenant": "alpha",
    "url": "rtsp://10.0.0.9/stream",
    "zones": [{"name": "lot", "polygon": [[0, 0], [100, 0], [100, 100]]}],
    "lines": [{"name": "door", "start": [0, 50], "end": [100, 50]}],
    "privacy_masks": [{"name": "window", "polygon": [[0, 0], [10, 0], [10, 10]]}],
}
REFUSED_URLS = [
    "http://127.0.0.1:8080/api/users",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://[::1]/",
    "http://localhost/",
    "rtsp://0.0.0.0:554/",
    "/etc/passwd",
    "file:///etc/shadow",
    "media/../../vigil.key",
    "data/vigil.db",
]


def post(world: World, body: Any) -> Any:
    return world.client("alpha:admin").post(
        "/api/cameras", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_refused_urls_get_422_naming_url_and_nothing_more(world: World, url: str) -> None:
    response = post(world, {**GOOD, "url": url})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "body.url: refused by policy"
    assert world.client("alpha:admin").get("/api/cameras/alpha:new").status_code == 404
    assert "alpha:new" not in [c.id for c in world.engine.cameras()]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": ""}, "url"),
        ({"url": "   "}, "url"),
        ({"url": "ftp://cam/x"}, "url"),
        ({"url": "gopher://cam/x"}, "url"),
        ({"url": "rtsp://cam/\x01x"}, "url"),
        ({"url": "rtsp://cam/" + "x" * 3000}, "url"),
        ({"name": "gate\x1b[31m"}, "name"),
        ({"name": "gate\nforged log line"}, "name"),
        ({"tenant": "Alpha Corp"}, "tenant"),
        ({"zones": [{"name": "lot", "polygon": [[0, 0], [1e300, 0], [100, 100]]}]}, "zones"),
        ({"zones": [{"name": "l\x07t", "polygon": [[0, 0], [1, 0], [1, 1]]}]}, "zones"),
        ({"lines": [{"name": "door", "start": [0, 50], "end": [1e9, 50]}]}, "lines"),
        ({"privacy_masks": [{"polygon": [[0, 0], [-1e7, 0], [10, 10]]}]}, "privacy_masks"),
        ({"analysis_fps": 1e308}, "analysis_fps"),
        ({"start_offset_s": 1e300}, "start_offset_s"),
        (
            {
                "calibration": {
                    "image_points": [[0, 0], [1, 0], [1, 1], [0, 1]],
                    "ground_points": [[0, 0], [1e30, 0], [1, 1], [0, 1]],
                }
            },
            "calibration",
        ),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    world: World, change: dict[str, Any], field: str
) -> None:
    response = post(world, {**GOOD, **change})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].removeprefix("body.").split(".")[0].split(":")[0] == field


@pytest.mark.parametrize(
    "literal",
    ["NaN", "Infinity", "-Infinity"],
)
def test_non_finite_coordinates_are_422(world: World, literal: str) -> None:
    """Python's JSON parser accepts NaN and Infinity literals; the API must not."""
    body = json.dumps(GOOD).replace("[100, 0]", f"[{literal}, 0]", 1)
    assert literal in body
    response = world.client("alpha:admin").post(
        "/api/cameras", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("body.zones.0.polygon.1.0")


def test_lone_surrogate_in_a_name_is_422(world: World) -> None:
    body = json.dumps(GOOD).replace('"Alpha new"', '"Alpha \\ud800 new"')
    response = world.client("alpha:admin").post(
        "/api/cameras", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("body.name")


def test_rejected_update_leaves_the_running_camera_as_it_was(world: World) -> None:
    client = world.client("alpha:admin")
    before = client.get("/api/cameras/alpha:gate").json()
    running_before = next(c for c in world.engine.cameras() if c.id == "alpha:gate")
    for change in (
        {"url": "http://169.254.169.254/"},
        {"url": "/etc/passwd"},
        {"zones": [{"name": "z", "polygon": [[0, 0], [1e9, 0], [1, 1]]}]},
        {"name": "x\x00y"},
    ):
        body = {**{k: v for k, v in before.items() if k not in ("origin", "status")}, **change}
        response = client.put("/api/cameras/alpha:gate", json=body)
        assert response.status_code == 422, (change, response.text)
    assert client.get("/api/cameras/alpha:gate").json() == before
    assert next(c for c in world.engine.cameras() if c.id == "alpha:gate") == running_before


def test_config_camera_keeps_its_trusted_url_but_a_changed_one_is_checked(world: World) -> None:
    """The config file's camera reads a local file no tenant could choose; editing its other
    settings keeps working, pointing it elsewhere on the server does not."""
    client = world.client("alpha:admin")
    dock = client.get("/api/cameras/alpha:dock").json()
    body = {k: v for k, v in dock.items() if k not in ("origin", "status")}
    assert client.put("/api/cameras/alpha:dock", json={**body, "name": "Dock"}).status_code == 200
    moved = client.put("/api/cameras/alpha:dock", json={**body, "url": "media/b.mp4"})
    assert moved.status_code == 422
    assert moved.json()["detail"] == "body.url: refused by policy"


def test_a_stored_camera_with_invalid_settings_can_be_listed_edited_and_deleted(
    world: World,
) -> None:
    """Settings an older version accepted (an absurd coordinate, a control character) must not
    make the camera list fail, or the camera impossible to fix or remove. (NaN, which older
    versions also took, only SQLite's JSON can hold; both databases hold these.)"""
    bad = {
        **GOOD,
        "id": "alpha-old",
        "name": "old\x07",
        "zones": [{"name": "z", "polygon": [[0, 0], [1e12, 0], [1, 1]]}],
    }
    with world.store.engine.begin() as connection:
        connection.execute(
            sa.insert(cameras).values(
                id="alpha-old",
                tenant="alpha",
                name="old",
                config=bad,
                origin="api",
                created_ms=1,
                updated_ms=1,
            )
        )
    client = world.client("alpha:admin")
    listed = client.get("/api/cameras")
    assert listed.status_code == 200
    old = next(c for c in listed.json() if c["id"] == "alpha-old")
    assert old["enabled"] is False
    assert client.get("/api/cameras/alpha-old").status_code == 200
    fixed = client.put("/api/cameras/alpha-old", json={**GOOD, "id": "alpha-old"})
    assert fixed.status_code == 200, fixed.text
    assert client.get("/api/cameras/alpha-old").json()["zones"][0]["polygon"][1] == [100, 0]
    assert client.delete("/api/cameras/alpha-old").status_code == 204
    assert client.get("/api/cameras/alpha-old").status_code == 404
    assert bravo_cannot_see(world, "alpha-old")


def bravo_cannot_see(world: World, camera_id: str) -> bool:
    return world.client("bravo:admin").get(f"/api/cameras/{camera_id}").status_code == 404


def test_valid_camera_is_accepted(world: World) -> None:
    """The control: the same body without the hostile part is created."""
    response = post(world, GOOD)
    assert response.status_code == 201, response.text
