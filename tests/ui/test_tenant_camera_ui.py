"""A tenant's camera ('acme:gate': the id carries its tenant's prefix) in Chromium: the live wall
shows its picture, the Cameras page lists it and opens its page, whose preview loads. The ':'
must survive every URL, hash route and attribute the UI builds from the id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from playwright.sync_api import expect

from tests.server import Server, running_server
from tests.ui.conftest import CLIP
from vigil.auth.roles import Role
from vigil.auth.store import AuthStore
from vigil.store import EventStore

pytestmark = pytest.mark.browser

CAMERA = "acme:gate"
ADMIN = "acme:admin"
PASSWORD = "acme admin password, long enough"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real `vigil serve` with one camera of tenant acme, and an admin of acme (this
    module's `browser` fixture starts Chromium against it)."""
    workdir = tmp_path_factory.mktemp("vigil-ui-tenant")
    camera = {"id": CAMERA, "name": "Acme gate", "tenant": "acme", "url": str(CLIP),
              "analysis_fps": 2}
    with running_server(workdir, [camera]) as running:
        assert running.config is not None
        config = yaml.safe_load(running.config.read_text(encoding="utf-8"))
        store = EventStore(config["store"]["url"])
        try:
            made = AuthStore(store.engine).create_user("admin", PASSWORD, Role.ADMIN, "acme")
        finally:
            store.close()
        assert made.username == ADMIN  # a bare name for acme gets acme's prefix
        yield running


@pytest.fixture
def acme_page(browser: Any, server: Server) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    login = context.request.post(
        server.url + "/api/auth/login", data={"username": ADMIN, "password": PASSWORD}
    )
    assert login.ok, login.text()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    yield tab, errors
    context.close()


def test_a_tenants_camera_shows_on_the_live_wall_and_opens_its_page(
    server: Server, acme_page: tuple[Any, list[str]]
) -> None:
    tab, errors = acme_page
    tab.goto(f"{server.url}/#/live", wait_until="domcontentloaded")
    tile = tab.locator(f'[data-testid=camera-tile][data-camera-id="{CAMERA}"]')
    expect(tile).to_be_visible(timeout=30_000)
    expect(tile).to_contain_text("Acme gate")
    expect(tile.locator("[data-testid=picture-age]")).to_contain_text(" old", timeout=60_000)

    tab.goto(f"{server.url}/#/cameras", wait_until="domcontentloaded")
    row = tab.locator(f'[data-testid="camera-row"][data-camera-id="{CAMERA}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text(CAMERA)
    with tab.expect_response(lambda r: "/api/cameras/acme%3Agate/live.jpg" in r.url) as shown:
        row.get_by_role("link", name="Acme gate").click()
        expect(tab.get_by_role("heading", name="Camera Acme gate")).to_be_visible()
    assert shown.value.status == 200
    assert shown.value.headers["content-type"] == "image/jpeg"
    assert tab.url.endswith("#/cameras/acme%3Agate")
    assert errors == [], f"console errors: {errors}"
