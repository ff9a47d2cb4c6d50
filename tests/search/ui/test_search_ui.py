"""The search UI in Chromium against the real `vigil serve` (fixtures of tests/ui): the header
box on every page, the results grid with reasons, facets and timeline, the detail with the
object's box drawn on the snapshot and the camera's neighbouring events, and a refusal."""

from __future__ import annotations

import re
import time
import urllib.parse
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server import Server

pytestmark = pytest.mark.browser


def wait_for_matches(server: Server, q: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    path = "/api/search?" + urllib.parse.urlencode({"q": q, "purpose": "ui test"})
    while True:
        body: dict[str, Any] = server.get_json(path)
        if body["total"] >= 2 and any(i["event"]["snapshot"] for i in body["items"]):
            return body
        assert time.monotonic() < deadline, f"no matches for {q!r} after {timeout_s} s"
        time.sleep(2)


def test_search_from_the_header_to_an_event_in_context(
    server: Server, page: tuple[Any, Any], screenshot: Any
) -> None:
    tab, console = page
    wait_for_matches(server, "person in the walkway")
    tab.goto(server.url + "/#/events", wait_until="domcontentloaded")
    box = tab.get_by_test_id("header-search").locator("input")
    expect(box).to_be_visible()
    box.fill("person in the walkway")
    box.press("Enter")
    expect(tab).to_have_url(re.compile(r"#/search\?q=person"))
    results = tab.get_by_test_id("search-result")
    expect(results.first).to_be_visible(timeout=20_000)
    expect(tab.get_by_test_id("search-filters")).to_contain_text("place: zone walkway")
    expect(results.first.get_by_test_id("search-reason")).to_contain_text("zone walkway")
    expect(results.first.get_by_test_id("box-overlay")).to_have_count(1)
    expect(tab.get_by_test_id("search-facets")).to_contain_text("Plaza east")
    expect(tab.get_by_test_id("search-timeline").locator("rect").first).to_be_attached()
    screenshot(tab, "search-results")

    results.first.click()
    dialog = tab.get_by_test_id("event-detail")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("box-overlay")).to_have_count(1)
    context = dialog.get_by_test_id("search-context")
    expect(context).to_contain_text("other events within 2 minutes")
    expect(context.get_by_test_id("context-item").first).to_be_visible(timeout=10_000)
    screenshot(tab, "search-detail")
    tab.keyboard.press("Escape")

    # A facet narrows the matches and shows as a removable filter.
    tab.get_by_test_id("search-facets").locator("[data-facet=camera] button").first.click()
    expect(tab.get_by_test_id("search-filters")).to_contain_text("camera:")
    assert console.errors == [], console.errors


def test_person_search_is_refused_in_the_ui(server: Server, page: tuple[Any, Any]) -> None:
    tab, _ = page
    tab.goto(server.url + "/#/search?q=find+this+face", wait_until="domcontentloaded")
    expect(tab.get_by_test_id("search-error")).to_contain_text(
        "does not search for people by identity", timeout=15_000)
    expect(tab.get_by_test_id("search-result")).to_have_count(0)
