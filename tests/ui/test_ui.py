"""The web UI in Chromium against the real `vigil serve` (see conftest.py).

Tests run in file order on one server: by the time the Events and Counters pages are checked,
the cameras have been producing events for a while.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server import Server

pytestmark = pytest.mark.browser

ALL_IMAGES_LOADED = """selector => {
  const images = [...document.querySelectorAll(selector)];
  return images.length > 0 && images.every(image => image.complete && image.naturalWidth > 0);
}"""
ANY_IMAGE_LOADED = """selector => [...document.querySelectorAll(selector)]
  .some(image => image.complete && image.naturalWidth > 0)"""

Page = tuple[Any, Any]
Shot = Callable[[Any, str], Path]


def assert_clean(server: Server, console: Any) -> None:
    assert console.errors == [], f"console errors: {console.errors}"
    outside = [url for url in console.requests if not url.startswith((server.url, "data:"))]
    assert outside == [], f"requests outside the Vigil server: {outside}"


def reload_until(page: Any, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Reload until `ready()`; for pages that load their data once (events, period counts).
    Each load is given a few seconds to fetch and draw its data before it is judged: judged at
    once after a reload, a page whose requests are slower than that check (a loaded machine)
    would never be seen ready."""
    deadline = time.monotonic() + timeout_s
    while True:
        judged_by = time.monotonic() + 3
        while time.monotonic() < judged_by:
            if ready():
                return
            page.wait_for_timeout(250)
        assert time.monotonic() < deadline, f"gave up after {timeout_s:.0f} s waiting for {what}"
        page.reload(wait_until="domcontentloaded")


def test_live_wall_shows_every_camera(server: Server, page: Page, screenshot: Shot) -> None:
    tab, console = page
    tab.goto(server.url + "/", wait_until="domcontentloaded")
    tiles = tab.locator("[data-testid=camera-tile]")
    expect(tiles).to_have_count(len(server.cameras), timeout=15_000)
    for camera in server.cameras:
        tile = tab.locator(f'[data-testid=camera-tile][data-camera-id="{camera["id"]}"]')
        # Names are user input: markup in them is shown as typed, never parsed.
        expect(tile.locator(".tile-name")).to_have_text(camera["name"])
        # Connected; the badge says "lagging" or "behind" instead of "online" when the picture
        # falls behind (a loaded test machine may well be), so the connection is asserted.
        expect(tile).to_have_attribute("data-online", "true", timeout=60_000)
        expect(tile.locator("[data-testid=camera-status]")).to_have_text(
            re.compile("^(online|lagging|behind)$"))
    assert tab.locator("[data-testid=camera-wall] b").count() == 0
    tab.wait_for_function(ALL_IMAGES_LOADED, arg="[data-testid=camera-image]", timeout=60_000)
    expect(tab.locator(".health-text")).to_have_text(
        f"{len(server.cameras)}/{len(server.cameras)} online", timeout=15_000
    )
    screenshot(tab, "live")

    tiles.first.click()
    expect(tiles.first).to_have_class(re.compile(r"\benlarged\b"))
    expect(tiles.first).to_have_attribute("data-signal", "ok", timeout=30_000)
    screenshot(tab, "live-enlarged")
    assert_clean(server, console)


def test_live_feed_shows_events_with_thumbnails(
    server: Server, page: Page, screenshot: Shot
) -> None:
    tab, console = page
    tab.goto(server.url + "/", wait_until="domcontentloaded")
    expect(tab.locator("[data-testid=feed-status]")).to_have_attribute(
        "data-state", "open", timeout=15_000
    )
    expect(tab.locator("[data-testid=event-row]").first).to_be_visible(timeout=60_000)
    tab.wait_for_function(ANY_IMAGE_LOADED, arg="[data-testid=event-thumb]", timeout=60_000)
    names = {camera["name"] for camera in server.cameras}
    for camera_name in tab.locator("[data-testid=event-row] .event-camera").all_text_contents():
        assert camera_name in names
    assert tab.locator("[data-testid=event-feed] b").count() == 0
    screenshot(tab, "live-feed")

    tab.locator("[data-testid=event-row]:has(img[data-testid=event-thumb])").first.click()
    detail = tab.locator("[data-testid=event-detail]")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("Event id")
    tab.wait_for_function(ALL_IMAGES_LOADED, arg="dialog .detail-image", timeout=15_000)
    screenshot(tab, "event-detail")
    tab.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    assert_clean(server, console)


def test_events_page_lists_and_filters_by_camera(
    server: Server, page: Page, screenshot: Shot
) -> None:
    tab, console = page
    tab.goto(server.url + "/#/events", wait_until="domcontentloaded")
    rows = tab.locator("[data-testid=event-result]")
    summary = tab.locator(".result-summary")

    def cameras_listed() -> set[str]:
        expect(summary).not_to_have_text(re.compile(r"^(Loading…)?$"), timeout=15_000)
        return set(rows.evaluate_all("rows => rows.map(row => row.dataset.cameraId)"))

    everyone = {camera["id"] for camera in server.cameras}
    reload_until(tab, lambda: cameras_listed() == everyone, 90, "events of every camera")
    total = rows.count()
    screenshot(tab, "events")

    chosen = server.cameras[1]
    tab.select_option("[data-testid=event-filters] select[name=camera]", chosen["id"])
    tab.wait_for_function(
        """id => {
          const rows = [...document.querySelectorAll('[data-testid=event-result]')];
          return rows.length > 0 && rows.every(row => row.dataset.cameraId === id);
        }""",
        arg=chosen["id"],
        timeout=15_000,
    )
    assert rows.count() <= total
    expect(rows.first.locator(".cell-camera")).to_have_text(chosen["name"])
    assert f"camera={chosen['id']}" in tab.url

    csv_link = tab.locator("[data-testid=download-csv]")
    href = csv_link.get_attribute("href") or ""
    assert "format=csv" in href and f"camera={chosen['id']}" in href
    response = tab.request.get(server.url + href)
    assert response.ok and "csv" in response.headers.get("content-type", "")
    assert chosen["id"] in response.text()
    screenshot(tab, "events-filtered")

    rows.first.click()
    detail = tab.locator("[data-testid=event-detail]")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text(chosen["id"])
    assert_clean(server, console)


def test_counters_page_draws_charts(server: Server, page: Page, screenshot: Shot) -> None:
    tab, console = page
    tab.goto(server.url + "/#/counters", wait_until="domcontentloaded")
    charts = tab.locator("svg[data-testid=counts-chart]")
    places = sum(len(camera["lines"]) + len(camera["zones"]) for camera in server.cameras)
    expect(charts).to_have_count(places, timeout=15_000)
    expect(tab.locator("[data-testid=zone-live]").first).to_contain_text(
        "occupancy", timeout=10_000
    )

    def bars_drawn() -> bool:
        expect(charts).to_have_count(places, timeout=15_000)
        return tab.locator("svg[data-testid=counts-chart] rect.bar").count() > 0

    reload_until(tab, bars_drawn, 60, "counted crossings or entries in a chart")
    screenshot(tab, "counters")
    assert_clean(server, console)
