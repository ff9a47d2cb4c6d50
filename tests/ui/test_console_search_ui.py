"""Search explains itself, in Chromium against the real `vigil serve` (conftest.py): every word
of the query is a chip saying whether it filtered, ranked or was ignored, and why."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.server import Server

pytestmark = pytest.mark.browser


def test_every_word_of_the_query_is_a_chip(server: Server, page: Any) -> None:
    tab, console = page
    query = "people in the walkway wearing zebra"
    tab.goto(f"{server.url}/#/search?q={quote(query)}", wait_until="domcontentloaded")
    chips = tab.locator("[data-testid=word-chip]")
    expect(chips).to_have_count(len(query.split()), timeout=30_000)
    roles = chips.evaluate_all("cs => cs.map(c => [c.textContent, c.dataset.role])")
    assert roles == [
        ["people · filter", "filter"],
        ["in · ignored", "ignored"],
        ["the · ignored", "ignored"],
        ["walkway · filter", "filter"],
        ["wearing · ranking", "ranking"],
        ["zebra · ranking", "ranking"],
    ]
    expect(chips.nth(3)).to_have_attribute("title", "place: zone walkway")
    assert console.errors == []


def test_a_numeric_condition_is_a_filter_chip_the_user_can_remove(
    server: Server, page: Any
) -> None:
    tab, console = page
    query = "more than 10 people in the walkway"
    tab.goto(f"{server.url}/#/search?q={quote(query)}", wait_until="domcontentloaded")
    count_chip = tab.locator("[data-testid=query-filter][data-kind=count]")
    expect(count_chip).to_have_text("count: person count > 10 ×", timeout=30_000)
    count_chip.click()
    # The query is searched again without those words; the place filter stays.
    expect(tab.locator("[data-testid=query-filter][data-kind=place]")).to_have_count(1)
    expect(tab.locator("[data-testid=query-filter][data-kind=count]")).to_have_count(0)
    assert "more" not in tab.evaluate("decodeURIComponent(location.hash)")
    assert console.errors == []
