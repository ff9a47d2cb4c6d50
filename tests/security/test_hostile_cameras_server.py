"""A hostile tenant admin against the real server over HTTP: camera URLs aimed at the server
itself, at loopback services and at the store's files. A listener on 127.0.0.1 records every
request it gets; it must get none. The administrator's own (config-file) camera keeps working.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.media import CLIP
from tests.security.listeners import Listener, listening
from tests.server import Server, running_server
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def internal() -> Iterator[Listener]:
    with listening("127.0.0.1") as listener:
        yield listener


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("vigil-hostile")
    cameras = [{"id": "demo", "name": "Demo", "url": str(CLIP), "analysis_fps": 2}]
    with running_server(workdir, cameras) as running:
        yield running


def call(server: Server, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        server.url + path,
        data=data,
        method=method,
        headers={**server.headers, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def loopback_name() -> str:
    """A host name other than `localhost` that resolves to loopback here (the machine's own
    name usually does, through /etc/hosts)."""
    for name in (socket.gethostname(), "ip6-localhost", "localhost.localdomain"):
        try:
            infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
        except OSError:
            continue
        if name != "localhost" and all(
            ipaddress.ip_address(info[4][0]).is_loopback for info in infos
        ):
            return name
    pytest.skip("no host name other than localhost resolves to loopback on this machine")


def status_of(server: Server, camera_id: str) -> dict[str, Any]:
    code, camera = call(server, "GET", f"/api/cameras/{camera_id}")
    assert code == 200
    return dict(camera["status"])


def test_literal_internal_addresses_and_store_files_are_refused_at_once(
    server: Server, internal: Listener
) -> None:
    assert server.config is not None
    data = server.config.parent
    port = server.url.rsplit(":", 1)[1]
    for url in (
        internal.url("/admin"),
        f"http://127.0.0.1:{port}/api/users",
        "http://169.254.169.254/latest/meta-data/",
        str(data / "vigil.db"),
        str(data / "vigil.yaml"),
        f"{data}/media/../vigil.key",
    ):
        code, body = call(server, "POST", "/api/cameras", {"id": "probe", "url": url})
        assert (code, body) == (422, {"detail": "body.url: refused by policy"}), url
    assert internal.hits == []


def test_a_name_that_resolves_to_loopback_is_refused_when_connecting(
    server: Server, internal: Listener
) -> None:
    """The API does not resolve names (that would be an oracle of internal DNS); the camera's
    reader resolves and refuses, and the tenant sees only the category."""
    name = loopback_name()
    code, _ = call(
        server, "POST", "/api/cameras", {"id": "sneaky", "url": internal.url("/secret", host=name)}
    )
    assert code == 201
    status = wait_until(lambda: status_of(server, "sneaky")["last_error"], 30)
    assert status == "refused by policy"
    assert internal.hits == []
    assert call(server, "DELETE", "/api/cameras/sneaky")[0] == 204


def test_the_config_file_camera_still_runs(server: Server) -> None:
    wait_until(lambda: status_of(server, "demo")["online"], 60)


def test_log_keeps_the_reason_for_the_administrator(server: Server) -> None:
    wait_until(lambda: "refused" in Path(server.log).read_text(), 30)
