"""Camera ids and usernames live in their tenant's namespace ('alpha:gate', 'alpha:viewer'), so
whether one is free never depends on another tenant: a name another tenant holds answers
exactly as a free one, and "already exists" only ever speaks of the caller's own tenant."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.conftest import PASSWORD, World
from vigil.config import CameraConfig, ConfigError, parse_config

CAMERA = {"name": "Cam", "tenant": "alpha", "url": "rtsp://10.0.0.9/stream"}


def add_camera(client: TestClient, camera_id: str, tenant: str = "alpha") -> Any:
    return client.post("/api/cameras", json={**CAMERA, "id": camera_id, "tenant": tenant})


def add_user(client: TestClient, username: str) -> Any:
    return client.post(
        "/api/users", json={"username": username, "password": PASSWORD, "role": "viewer"}
    )


def same_answer(
    held: Any, free: Any, held_name: str, free_name: str, fresh: tuple[str, ...] = ()
) -> None:
    """Two answers that differ in nothing but the name asked for (and the `fresh` fields, such
    as a new user's random id and creation time)."""
    assert held.status_code == free.status_code
    assert set(held.headers) - {"date"} == set(free.headers) - {"date"}
    bodies = [
        {k: v for k, v in response.json().items() if k not in fresh} for response in (held, free)
    ]
    assert str(bodies[0]).replace(held_name, "X") == str(bodies[1]).replace(free_name, "X")


def test_a_camera_name_another_tenant_holds_answers_exactly_as_a_free_one(world: World) -> None:
    alpha = world.client("alpha:admin")
    held = add_camera(alpha, "yard")  # bravo has 'bravo:yard'
    free = add_camera(alpha, "pond")  # nobody has a 'pond'
    same_answer(held, free, "yard", "pond")
    assert held.status_code == 201, held.text
    assert held.json()["id"] == "alpha:yard"
    assert held.headers["Location"] == "/api/cameras/alpha:yard"
    assert alpha.get("/api/cameras/alpha:yard").json()["tenant"] == "alpha"
    # Bravo's camera is untouched and still only bravo's.
    bravo = world.client("bravo:admin")
    assert [c["id"] for c in bravo.get("/api/cameras").json()] == ["bravo:yard"]
    assert {c.id for c in world.engine.cameras()} >= {"alpha:yard", "bravo:yard"}


def test_a_qualified_id_of_the_callers_tenant_is_kept_and_only_their_own_is_taken(
    world: World,
) -> None:
    alpha = world.client("alpha:admin")
    created = add_camera(alpha, "alpha:lane")
    assert (created.status_code, created.json()["id"]) == (201, "alpha:lane")
    again = add_camera(alpha, "lane")
    assert again.status_code == 409
    assert again.json()["detail"] == "camera 'alpha:lane' already exists"


def test_an_id_in_another_tenants_namespace_is_422_whether_or_not_it_exists(
    world: World,
) -> None:
    alpha = world.client("alpha:admin")
    held = add_camera(alpha, "bravo:yard")
    free = add_camera(alpha, "bravo:nothing")
    same_answer(held, free, "yard", "nothing")
    assert held.status_code == 422
    assert held.json()["detail"] == (
        "body.id: 'bravo:yard' is in the namespace of tenant 'bravo'; a camera of tenant "
        "'alpha' has an id 'alpha:<name>', e.g. 'alpha:yard'"
    )
    assert [c["id"] for c in world.client("bravo:admin").get("/api/cameras").json()] == [
        "bravo:yard"
    ]


def test_an_import_qualifies_ids_as_post_does(world: World) -> None:
    alpha = world.client("alpha:admin")
    text = (
        "cameras:\n"
        "  - {id: yard, tenant: alpha, url: 'rtsp://10.0.0.9/a'}\n"
        "  - {id: 'bravo:yard', tenant: alpha, url: 'rtsp://10.0.0.9/b'}\n"
    )
    result = alpha.post("/api/cameras/import", content=text).json()
    assert result["created"] == ["alpha:yard"]
    assert [(r["row"], r["problems"][0]["field"]) for r in result["rejected"]] == [(2, "id")]
    assert "namespace of tenant 'bravo'" in result["rejected"][0]["problems"][0]["message"]


def test_a_username_another_tenant_holds_answers_exactly_as_a_free_one(world: World) -> None:
    bravo_made = add_user(world.client("bravo:admin"), "night")
    assert (bravo_made.status_code, bravo_made.json()["username"]) == (201, "bravo:night")
    alpha = world.client("alpha:admin")
    held = add_user(alpha, "night")
    free = add_user(alpha, "day")
    same_answer(held, free, "night", "day", fresh=("id", "created"))
    assert held.status_code == 201, held.text
    assert (held.json()["username"], held.json()["tenant"]) == ("alpha:night", "alpha")
    # Each logs in with the qualified name; the bare one is nobody's.
    login = world.client().post(
        "/api/auth/login", json={"username": "alpha:night", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert (login.json()["username"], login.json()["tenant"]) == ("alpha:night", "alpha")
    bare = world.client().post("/api/auth/login", json={"username": "night", "password": PASSWORD})
    assert bare.status_code == 401
    taken = add_user(alpha, "alpha:night")
    assert (taken.status_code, taken.json()["detail"]) == (409, "username: 'alpha:night' is taken")


def test_a_username_in_another_tenants_namespace_is_422_whether_or_not_it_exists(
    world: World,
) -> None:
    alpha = world.client("alpha:admin")
    held = add_user(alpha, "bravo:viewer")
    free = add_user(alpha, "bravo:nobody")
    same_answer(held, free, "viewer", "nobody")
    assert held.status_code == 422
    assert held.json()["detail"].startswith(
        "username: 'bravo:viewer' is in the namespace of tenant 'bravo'"
    )


def test_system_wide_users_keep_bare_names(world: World) -> None:
    root = world.client("root")
    made = root.post(
        "/api/users", json={"username": "dpo2", "password": PASSWORD, "role": "auditor"}
    )
    assert (made.status_code, made.json()["username"]) == (201, "dpo2")
    prefixed = root.post(
        "/api/users", json={"username": "alpha:dpo3", "password": PASSWORD, "role": "auditor"}
    )
    assert prefixed.status_code == 422
    assert prefixed.json()["detail"] == (
        "username: a user without a tenant has a bare name, without a tenant prefix; "
        "write 'dpo3'"
    )


@pytest.mark.parametrize(
    ("camera", "message"),
    [
        (
            {"id": "gate", "tenant": "acme"},
            "cameras[1].id: a camera of tenant 'acme' has an id 'acme:<name>'; write 'acme:gate'",
        ),
        (
            {"id": "default:gate"},
            "cameras[1].id: a camera of tenant 'default' has a bare id, without a tenant prefix; "
            "write 'gate'",
        ),
        (
            {"id": "bravo:gate", "tenant": "acme"},
            "cameras[1].id: 'bravo:gate' is in the namespace of tenant 'bravo'",
        ),
    ],
)
def test_the_config_file_names_the_id_to_write_and_never_renames(
    camera: dict[str, str], message: str
) -> None:
    cameras = [{"id": "lobby", "url": "media/a.mp4"}, {**camera, "url": "media/b.mp4"}]
    with pytest.raises(ConfigError) as raised:
        parse_config({"cameras": cameras})
    assert message in str(raised.value)


def test_the_config_file_takes_qualified_ids_of_tenants_and_bare_ids_of_default() -> None:
    config = parse_config(
        {
            "cameras": [
                {"id": "lobby", "url": "media/a.mp4"},
                {"id": "acme:gate", "tenant": "acme", "url": "media/b.mp4"},
            ]
        }
    )
    assert [(c.id, c.tenant) for c in config.cameras] == [
        ("lobby", "default"),
        ("acme:gate", "acme"),
    ]
    # One camera alone (a stored one, or the API's body) may still have a bare id: a camera
    # stored before the namespaces keeps working.
    assert CameraConfig(id="gate", tenant="acme", url="media/b.mp4").id == "gate"


def test_a_camera_stored_before_the_namespaces_keeps_its_bare_id(world: World) -> None:
    legacy = CameraConfig(id="old-gate", tenant="alpha", url="rtsp://10.0.0.9/old")
    world.store.put_camera(legacy, "api")
    alpha = world.client("alpha:admin")
    assert "old-gate" in [c["id"] for c in alpha.get("/api/cameras").json()]
    body = {"id": "old-gate", "tenant": "alpha", "url": "rtsp://10.0.0.9/old", "name": "Old"}
    edited = alpha.put("/api/cameras/old-gate", json=body)
    assert (edited.status_code, edited.json()["name"]) == (200, "Old"), edited.text
    assert world.client("bravo:admin").get("/api/cameras/old-gate").status_code == 404
    assert alpha.delete("/api/cameras/old-gate").status_code == 204
    assert alpha.get("/api/cameras/old-gate").status_code == 404
