"""The site-setup paths obey the source policy as POST /api/cameras does: a tenant admin cannot
use the connection test (probe), ONVIF, bulk import or apply-to to make the server contact
loopback, the cloud metadata service or any other refused address, and learns only that the
request was "refused by policy".

"Never contacted" is checked on a real listening socket: a connection the server made would
be waiting in its backlog (TCP) or its receive queue (UDP) when the request returns.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.security.conftest import World, make_world
from vigil.api.redact import redact_url
from vigil.config import CameraConfig

METADATA = "http://169.254.169.254/latest/meta-data/"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port on loopback, like a database or an admin interface on the server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def contacted(sock: socket.socket) -> bool:
    try:
        connection, _peer = sock.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def probe(world: World, user: str, body: dict[str, object]) -> dict[str, object]:
    response = world.client(user).post("/api/cameras/probe", json={"timeout_s": 1, **body})
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_a_probe_of_loopback_or_metadata_is_refused_without_contact(
    world: World, listener: socket.socket
) -> None:
    for url in (f"http://127.0.0.1:{port_of(listener)}/snapshot.jpg", METADATA):
        body = probe(world, "alpha:admin", {"url": url})
        assert (body["ok"], body["problem"], body["preview"]) == (False, "policy", None)
        assert str(body["message"]).endswith("refused by policy")
        assert "loopback" not in str(body["message"]) and "link-local" not in str(body["message"])
    assert not contacted(listener)


def test_the_listener_would_have_seen_an_allowed_probe(
    tmp_path: Path, listener: socket.socket
) -> None:
    """The control for the test above: where the administrator admits 127.0.0.1/32 the same
    probe does reach the listener, so "not contacted" there means refused."""
    world = make_world(tmp_path, sources={"allow_networks": ["127.0.0.1/32"]})
    try:
        body = probe(world, "alpha:admin", {"url": f"http://127.0.0.1:{port_of(listener)}/x.jpg"})
        assert body["problem"] != "policy"
        assert contacted(listener)
    finally:
        world.store.close()


def test_a_probe_of_a_stored_cameras_main_stream_is_held_to_the_policy(
    world: World, listener: socket.socket
) -> None:
    """A camera stored before the policy existed (or by another path) with a main stream on
    loopback: probing its masked main URL with the stored credentials is refused too."""
    main_url = f"rtsp://rec:secret@127.0.0.1:{port_of(listener)}/main"
    world.store.put_camera(
        CameraConfig(
            id="alpha-old",
            tenant="alpha",
            url="rtsp://10.1.2.3/stream",
            main_url=main_url,
            enabled=False,
        ),
        "api",
    )
    body = probe(world, "alpha:admin", {"url": redact_url(main_url), "camera_id": "alpha-old"})
    assert (body["ok"], body["problem"]) == (False, "policy")
    assert "secret" not in str(body["message"])
    assert not contacted(listener)


def test_an_import_row_with_a_refused_url_is_reported_for_that_row(
    world: World, listener: socket.socket
) -> None:
    loopback = f"rtsp://127.0.0.1:{port_of(listener)}/stream"
    text = yaml.safe_dump(
        {
            "cameras": [
                {"id": "alpha:meta", "tenant": "alpha", "url": METADATA},
                {"id": "alpha:self", "tenant": "alpha", "url": loopback},
                {"id": "alpha:lane", "tenant": "alpha", "url": "rtsp://10.1.2.3/stream"},
                {
                    "id": "alpha:rec",
                    "tenant": "alpha",
                    "url": "rtsp://10.1.2.4/stream",
                    "main_url": loopback,
                },
            ]
        }
    )
    for dry_run in ("true", "false"):
        response = world.client("alpha:admin").post(
            f"/api/cameras/import?format=yaml&dry_run={dry_run}", content=text
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["created"] == ["alpha:lane"]
        rejected = {
            (item["row"], item["camera_id"]): item["problems"] for item in body["rejected"]
        }
        assert rejected == {
            (1, "alpha:meta"): [{"field": "url", "message": "refused by policy"}],
            (2, "alpha:self"): [{"field": "url", "message": "refused by policy"}],
            (4, "alpha:rec"): [{"field": "main_url", "message": "refused by policy"}],
        }
    for refused in ("alpha:meta", "alpha:self", "alpha:rec"):
        assert world.store.get_camera(refused) is None
        assert refused not in {c.id for c in world.engine.cameras()}
    assert world.store.get_camera("alpha:lane") is not None
    assert not contacted(listener)


def test_apply_to_does_not_restart_a_camera_whose_url_the_policy_refuses(world: World) -> None:
    world.store.put_camera(
        CameraConfig(id="alpha-old", tenant="alpha", url=METADATA, enabled=False), "api"
    )
    body = world.client("alpha:admin").post(
        "/api/cameras/alpha:gate/apply-to", json={"cameras": ["alpha-old"], "parts": ["zones"]}
    ).json()
    assert body["updated"] == []
    assert body["rejected"][0]["problems"] == [{"field": "url", "message": "refused by policy"}]
    stored = world.store.get_camera("alpha-old")
    assert stored is not None and stored.config.zones == []


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "localhost"])
def test_onvif_requests_to_refused_hosts_are_refused_without_contact(
    world: World, listener: socket.socket, host: str
) -> None:
    client = world.client("alpha:admin")
    port = port_of(listener)
    device = {"host": host, "port": port, "username": "u", "password": "p"}
    for path, extra in (
        ("/api/onvif/device", {}),
        ("/api/onvif/ptz/presets", {"profile": "p1"}),
        ("/api/onvif/ptz/goto", {"profile": "p1", "preset": "1"}),
        ("/api/onvif/ptz/save", {"profile": "p1", "name": "door"}),
    ):
        response = client.post(path, json={**device, **extra})
        assert response.status_code == 422, (path, response.text)
        assert response.json()["detail"] == "host: refused by policy"
    assert not contacted(listener)


def test_directed_onvif_discovery_of_loopback_sends_nothing(world: World) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.setblocking(False)
        response = world.client("alpha:admin").post(
            "/api/onvif/discover",
            json={"address": "127.0.0.1", "port": port_of(udp), "timeout_s": 0.5},
        )
        assert response.status_code == 422
        assert response.json()["detail"] == "address: refused by policy"
        with pytest.raises(BlockingIOError):
            udp.recv(65536)
