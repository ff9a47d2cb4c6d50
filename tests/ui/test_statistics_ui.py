"""The Statistics page charts the series the modules measure, and exports them as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.server import Server
from tests.ui.test_ui import Page, Shot, assert_clean, reload_until

pytestmark = pytest.mark.browser


def test_statistics_page_charts_zone_occupancy(
    server: Server, page: Page, screenshot: Shot
) -> None:
    tab, console = page
    tab.goto(server.url + "/#/statistics", wait_until="domcontentloaded")
    sections = tab.locator("[data-testid=series-camera]")
    expect(sections).to_have_count(len(server.cameras), timeout=15_000)

    # Points are published every 10 s of camera time, and the page reads them once per load.
    occupancy = tab.locator('[data-testid=series-card][data-metric="occupancy"]')
    reload_until(tab, lambda: occupancy.count() >= 1, 90, "an occupancy chart")
    card = occupancy.first
    expect(card.locator("h3")).to_contain_text("walkway")
    expect(card.locator("polyline.series-line")).to_have_count(1)
    screenshot(tab, "statistics")

    href = tab.locator("[data-testid=series-csv]").get_attribute("href")
    assert href and "format=csv" in href
    response = tab.request.get(server.url + href)
    assert response.ok and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert any(row["metric"] == "occupancy" and row["place"] == "walkway" for row in rows)
    assert_clean(server, console)
