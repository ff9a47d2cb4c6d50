"""A live view that never lies, and roles in the UI, in Chromium against the real `vigil serve`
(conftest.py): every tile says how old its picture is; a camera whose source cannot be reached
turns red with the reason and the header counts it as degraded; a viewer's live page neither
opens the event stream its role may not read nor retries it, and sees no alerts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server import Server
from tests.ui.conftest import Console

pytestmark = pytest.mark.browser

Page = tuple[Any, Any]
Shot = Callable[[Any, str], Path]
VIEWER, VIEWER_PASSWORD = "wall-viewer", "a viewer's own long password"


@pytest.fixture
def unreachable_camera(server: Server) -> Iterator[str]:
    # Port 9 (discard) refuses the connection: the reader keeps reconnecting.
    server.send(
        "POST",
        "/api/cameras",
        {"id": "dead-end", "name": "Dead end", "url": "rtsp://127.0.0.1:9/nothing"},
    )
    yield "dead-end"
    server.send("DELETE", "/api/cameras/dead-end")


def test_every_tile_says_how_old_its_picture_is(server: Server, page: Page) -> None:
    tab, console = page
    tab.goto(f"{server.url}/#/live", wait_until="domcontentloaded")
    ages = tab.locator("[data-testid=camera-tile] [data-testid=picture-age]")
    expect(ages).to_have_count(len(server.cameras), timeout=30_000)
    for index in range(len(server.cameras)):
        expect(ages.nth(index)).to_have_text(
            re.compile(r"^\d+(\.\d)? (s|min) old$"), timeout=60_000
        )
    assert console.errors == []


def test_an_unreachable_camera_is_red_with_the_reason_and_counted_as_degraded(
    server: Server, unreachable_camera: str, page: Page, screenshot: Shot
) -> None:
    tab, console = page
    tab.goto(f"{server.url}/#/live", wait_until="domcontentloaded")
    tile = tab.locator(f'[data-testid=camera-tile][data-camera-id="{unreachable_camera}"]')
    expect(tile).to_have_attribute("data-level", "red", timeout=30_000)
    expect(tile.locator("[data-testid=tile-reasons]")).to_contain_text("reconnecting to the source")
    chip = tab.locator("[data-testid=degraded]")
    expect(chip).to_have_text(re.compile(r"^[1-9]\d* degraded$"))
    health = server.get_json("/api/camera-health")
    assert health["degraded"] >= 1
    assert {item["camera_id"]: item["level"] for item in health["items"]}[
        unreachable_camera
    ] == "red"
    screenshot(tab, "console-live-degraded")
    assert console.errors == []


@pytest.fixture
def viewer_page(browser: Any, server: Server) -> Iterator[tuple[Any, Console]]:
    server.send(
        "POST",
        "/api/users",
        {"username": VIEWER, "role": "viewer", "password": VIEWER_PASSWORD},
    )
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    response = context.request.post(
        server.url + "/api/auth/login", data={"username": VIEWER, "password": VIEWER_PASSWORD}
    )
    assert response.ok, response.text()
    tab = context.new_page()
    console = Console()
    tab.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    tab.on("request", lambda request: console.requests.append(request.url))
    responses: list[int] = []
    tab.on("response", lambda answer: responses.append(answer.status))
    tab.responses = responses  # type: ignore[attr-defined]
    yield tab, console
    context.close()


def test_a_viewer_sees_only_what_the_role_allows_and_nothing_is_retried(
    server: Server, viewer_page: tuple[Any, Console]
) -> None:
    tab, console = viewer_page
    tab.goto(f"{server.url}/#/live", wait_until="domcontentloaded")
    expect(tab.locator("[data-testid=camera-tile]").first).to_be_visible(timeout=15_000)
    expect(tab.locator(".feed-empty")).to_have_text(
        "Your role does not receive live events; the cameras are live."
    )
    expect(tab.locator("[data-testid=feed-status]")).to_have_text("not permitted")
    visible_pages = [
        link.get_attribute("data-page") for link in tab.locator(".nav a:visible").all()
    ]
    assert visible_pages == ["live"]
    tab.wait_for_timeout(7_000)  # longer than a retry or a poll would wait
    assert not [url for url in console.requests if "/api/events" in url]
    assert not [url for url in console.requests if "/api/alerts" in url]
    assert tab.locator("[data-testid=alert-banner]").count() == 0
    assert 403 not in tab.responses  # type: ignore[attr-defined]
    assert console.errors == []
