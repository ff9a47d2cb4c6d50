"""The Review page in Chromium against the real `vigil serve` (conftest.py): the clip's events
grouped into items newest first, worked through with the keyboard, and marked reviewed for the
tenant."""

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

Page = tuple[Any, Any]
Shot = Callable[[Any, str], Path]


def open_with_items(tab: Any, server: Server, at_least: int) -> None:
    """The page loads once; reload until the cameras produced enough incidents."""
    deadline = time.monotonic() + 120
    while True:
        tab.goto(f"{server.url}/#/review", wait_until="domcontentloaded")
        expect(tab.locator("[data-testid=review-count]")).not_to_be_empty(timeout=15_000)
        if tab.locator("[data-testid=review-item]").count() >= at_least:
            return
        assert time.monotonic() < deadline, "the cameras produced no review items"
        tab.wait_for_timeout(3000)


def test_review_items_are_worked_through_with_the_keyboard(
    server: Server, page: Page, screenshot: Shot
) -> None:
    tab, console = page
    open_with_items(tab, server, 3)
    rows = tab.locator("[data-testid=review-item]")
    shown = [rows.nth(i).get_attribute("data-item-id") for i in range(rows.count())]
    ends = [int(rows.nth(i).get_attribute("data-end-ms")) for i in range(rows.count())]
    assert ends == sorted(ends, reverse=True)  # newest first
    first, second = shown[0], shown[1]
    expect(rows.first).to_be_focused()
    expect(rows.first.locator(".severity")).to_have_text(re.compile("^(alert|detection|info)$"))
    expect(rows.first.get_by_role("link", name="Clip")).to_have_attribute(
        "href", re.compile(r"^/api/events/[0-9a-f-]{36}/clip$")
    )
    screenshot(tab, "console-review")

    tab.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    tab.keyboard.press("k")
    expect(rows.first).to_be_focused()
    tab.keyboard.press("r")  # reviewed: it leaves the unreviewed list, the next one has focus
    expect(tab.locator(f'[data-item-id="{first}"]')).to_have_count(0)
    expect(tab.locator(f'[data-item-id="{second}"]')).to_be_focused()
    reviewed = server.get_json("/api/review?reviewed=true")["items"]
    assert [(item["id"], item["reviewed"]["by"]) for item in reviewed] == [(first, "admin")]

    tab.keyboard.press("Enter")
    expect(tab.locator("[data-testid=event-detail]")).to_be_visible()
    tab.keyboard.press("Escape")
    tab.locator("input[name=unreviewed]").uncheck()
    done = tab.locator(f'[data-item-id="{first}"]')
    expect(done.locator("[data-testid=reviewed-by]")).to_contain_text("reviewed by admin")
    done.locator("[data-testid=review-mark]").click()  # "Unreviewed" again
    expect(done.locator("[data-testid=reviewed-by]")).to_have_count(0)
    assert server.get_json("/api/review?reviewed=true")["items"] == []
    assert console.errors == []
