"""The event detail leads somewhere, in Chromium against the real `vigil serve` (conftest.py):
human fields first and internal ones behind "Details", the previous and next event on the
same camera, the camera live; and the Events page's type filter offers only the types the
cameras can produce."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server import Server
from tests.ui.conftest import MODULES

pytestmark = pytest.mark.browser

Page = tuple[Any, Any]


def events_of(server: Server, camera: str, at_least: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 90
    while True:
        items = server.get_json(f"/api/events?camera={camera}&limit=1000")["items"]
        if len(items) >= at_least:
            return list(items)
        assert time.monotonic() < deadline, f"{camera} produced {len(items)} events"
        time.sleep(2)


def test_the_detail_reads_as_a_person_would_and_steps_through_the_camera(
    server: Server, page: Page
) -> None:
    tab, console = page
    newest_first = events_of(server, "plaza-east", 3)
    middle = newest_first[1]
    tab.goto(f"{server.url}/#/events?camera=plaza-east", wait_until="domcontentloaded")
    row = tab.locator(f'[data-event-id="{middle["id"]}"]')
    expect(row).to_be_visible(timeout=15_000)
    row.click()
    detail = tab.locator("[data-testid=event-detail]")
    human = detail.locator("[data-testid=detail-human]")
    expect(human.locator("dt").first).to_have_text("What")
    labels = human.locator("dt").all_inner_texts()
    order = ["What", "Where", "When", "How long", "Camera"]
    assert labels == [label for label in order if label in labels] and "Camera" in labels
    expect(human).to_contain_text("Plaza east")
    # The camera's other events within ±2 minutes, as Search shows them.
    expect(detail.locator("[data-testid=context-item]").first).to_be_visible()
    total = server.get_json("/api/event-count?camera=plaza-east")["total"]
    assert total >= len(newest_first)
    expect(tab.locator(".result-summary").first).to_contain_text(" of ")
    expect(detail.get_by_text("Event id")).to_be_hidden()  # behind "Details"
    detail.locator("summary", has_text="Details").click()
    expect(detail.get_by_text("Event id")).to_be_visible()

    def shown(event: dict[str, Any]) -> Any:
        return detail.locator(".detail-more dd").filter(has_text=event["id"])

    detail.locator("[data-testid=detail-previous]").click()
    expect(shown(newest_first[2])).to_have_count(1)
    detail.locator("[data-testid=detail-next]").click()
    expect(shown(middle)).to_have_count(1)

    detail.locator("[data-testid=detail-live]").click()
    tile = tab.locator('[data-testid=camera-tile][data-camera-id="plaza-east"]')
    expect(tile).to_have_class("tile enlarged", timeout=15_000)
    assert console.errors == []


def test_the_type_filter_offers_only_what_the_cameras_run(server: Server, page: Page) -> None:
    tab, console = page
    tab.goto(f"{server.url}/#/events", wait_until="domcontentloaded")
    options = tab.locator("select[name=module] option")
    expect(options).to_have_count(len(MODULES) + 1, timeout=15_000)
    offered = [value for value in options.evaluate_all("o => o.map(x => x.value)") if value]
    assert sorted(offered) == sorted(MODULES)
    assert console.errors == []
