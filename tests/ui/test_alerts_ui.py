"""The Alerts page in Chromium against the real `vigil serve` (fixtures in conftest.py): a rule
created in the form fires on the clip's zone events, its alerts are listed and open their event,
the link that notifications carry opens the event too, and rules can be edited and deleted."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server import Server

pytestmark = pytest.mark.browser

Page = tuple[Any, Any]
Shot = Callable[[Any, str], Path]
# User input with markup: shown as typed, never parsed.
RULE_NAME = 'Walkway <b>visits</b> & "co"'


def assert_clean(server: Server, console: Any, expected: str | None = None) -> None:
    """No console errors (but `expected`, the browser's report of a refusal the test caused)
    and no request outside the server."""
    errors = [text for text in console.errors if expected is None or expected not in text]
    assert errors == [], f"console errors: {errors}"
    outside = [url for url in console.requests if not url.startswith((server.url, "data:"))]
    assert outside == [], f"requests outside the Vigil server: {outside}"


def open_alerts(tab: Any, server: Server, suffix: str = "") -> None:
    tab.goto(f"{server.url}/#/alerts{suffix}", wait_until="domcontentloaded")
    expect(tab.locator("[data-testid=new-rule]")).to_be_enabled(timeout=15_000)


def test_a_rule_made_in_the_form_fires_and_its_alert_opens_the_event(
    server: Server, page: Page, screenshot: Shot
) -> None:
    tab, console = page
    open_alerts(tab, server)
    tab.locator("[data-testid=new-rule]").click()
    form = tab.locator("[data-testid=rule-form]")
    form.locator("input[name=name]").fill(RULE_NAME)
    form.locator("select[name=module]").select_option("zone")
    form.locator("select[name=zone]").select_option("walkway")
    form.locator("input[name=classes]").fill("person")
    screenshot(tab, "alerts-rule-form")
    form.get_by_role("button", name="Add rule").click()
    expect(form).to_be_hidden()

    row = tab.locator("[data-testid=rule-row]").filter(has_text="visits")
    expect(row).to_have_count(1)
    expect(row.locator(".rule-name")).to_have_text(RULE_NAME)
    expect(row.locator("[data-testid=rule-origin]")).to_have_text("api")
    expect(row.locator(".rule-conditions")).to_have_text("module zone · zone walkway · person")
    assert tab.locator("[data-testid=rule-list] b").count() == 0
    rule_id = row.get_attribute("data-rule-id")

    # The page polls; the clip's people walk through the zone within the first minute.
    fired = tab.locator(f'[data-testid=alert-row][data-rule-id="{rule_id}"]').first
    expect(fired).to_be_visible(timeout=90_000)
    expect(fired.locator("[data-testid=alert-status]")).to_have_text("recorded")
    screenshot(tab, "alerts")
    fired.click()
    detail = tab.locator("[data-testid=event-detail]")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("walkway")
    expect(detail).to_contain_text("person")
    assert_clean(server, console)


def test_the_notification_link_opens_the_event(server: Server, page: Page) -> None:
    [event] = server.get_json("/api/events?limit=1")["items"]
    tab, console = page
    open_alerts(tab, server, f"?event={event['id']}")
    detail = tab.locator("[data-testid=event-detail]")
    expect(detail).to_be_visible(timeout=15_000)
    expect(detail).to_contain_text(event["id"])
    assert_clean(server, console)


def test_rules_are_edited_and_deleted_in_the_page(server: Server, page: Page) -> None:
    tab, console = page
    open_alerts(tab, server)
    tab.locator("[data-testid=new-rule]").click()
    form = tab.locator("[data-testid=rule-form]")
    form.locator("input[name=name]").fill("Cars at night")
    form.locator("input[name=classes]").fill("car")
    form.locator("select[name=schedule]").select_option("weekly")
    form.locator("input[name=timezone]").fill("Europe/Berlin")
    form.get_by_role("button", name="Add rule").click()
    row = tab.locator("[data-testid=rule-row]").filter(has_text="Cars at night")
    expect(row.locator(".rule-conditions")).to_have_text(
        re.compile(r"^car · mon tue wed thu fri sat sun 22:00–06:00 \(Europe/Berlin\)$"))

    row.get_by_role("button", name="Edit").click()
    form.locator("input[name=cooldown_s]").fill("600")
    form.locator("input[name=timezone]").fill("Mars/Olympus")
    form.get_by_role("button", name="Save rule").click()
    expect(form.locator(".error-box")).to_contain_text("schedule.timezone")  # the API's reason
    form.locator("input[name=timezone]").fill("America/New_York")
    form.get_by_role("button", name="Save rule").click()
    expect(form).to_be_hidden()
    expect(row.locator("td.num")).to_have_text("600 s")
    expect(row.locator(".rule-conditions")).to_contain_text("America/New_York")

    tab.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert_clean(server, console, expected="status of 422")
