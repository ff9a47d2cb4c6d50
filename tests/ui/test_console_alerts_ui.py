"""Alerts that demand attention, in Chromium against the real `vigil serve` (conftest.py): a
rule on the clip's walkway fires, the banner shows on every page, an operator acknowledges an
alert with a note and the alert list shows who and when; the sound plays and a hidden page
gets desktop notifications for new alerts; the rule form refuses an empty rule naming the
field and "test this rule" counts the last 24 hours."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server import Server
from tests.ui.conftest import Console, log_in

pytestmark = pytest.mark.browser

Page = tuple[Any, Any]
Shot = Callable[[Any, str], Path]
FIRES_WITHIN_MS = 90_000  # the clip's people walk through the zone within the first minute
NOTE = 'Checked on camera: a visitor <b>lost</b> & "found"'
# Chromium shows a hidden page no differently in headless mode; this page says it is hidden,
# as a minimised window or a background tab would.
HIDDEN_PAGE = """
Object.defineProperty(document, "hidden", { get: () => true });
Object.defineProperty(document, "visibilityState", { get: () => "hidden" });
"""


def post_json(server: Server, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={**server.headers, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def rule(server: Server) -> dict[str, Any]:
    return post_json(
        server,
        "/api/alert-rules",
        {
            "id": "walkway-people",
            "name": "People on the walkway",
            "module": "zone",
            "zone": "walkway",
            "classes": ["person"],
        },
    )


def assert_clean(server: Server, console: Console, expected: str | None = None) -> None:
    errors = [text for text in console.errors if expected is None or expected not in text]
    assert errors == [], f"console errors: {errors}"
    outside = [url for url in console.requests if not url.startswith((server.url, "data:"))]
    assert outside == [], f"requests outside the Vigil server: {outside}"


@pytest.fixture
def hidden_page(browser: Any, server: Server) -> Iterator[tuple[Any, Console]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.grant_permissions(["notifications"], origin=server.url)
    context.add_init_script(HIDDEN_PAGE)
    log_in(context, server)
    tab = context.new_page()
    console = Console()
    tab.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    tab.on("request", lambda request: console.requests.append(request.url))
    yield tab, console
    context.close()


def test_the_banner_shows_on_every_page_and_an_alert_is_acknowledged_with_a_note(
    server: Server, rule: dict[str, Any], page: Page, screenshot: Shot
) -> None:
    tab, console = page
    tab.goto(f"{server.url}/#/live", wait_until="domcontentloaded")
    banner = tab.locator("[data-testid=alert-banner]")
    expect(banner).to_be_visible(timeout=FIRES_WITHIN_MS)
    expect(banner).to_contain_text(re.compile(r"\d+ alerts? needs? attention"))
    expect(banner.locator("[data-testid=banner-alert]").first).to_contain_text(
        "People on the walkway"
    )
    screenshot(tab, "console-banner")
    for name in ("events", "counters", "statistics", "alerts"):
        tab.goto(f"{server.url}/#/{name}", wait_until="domcontentloaded")
        expect(banner).to_be_visible()

    item = banner.locator("[data-testid=banner-alert]").first
    alert_id = item.get_attribute("data-alert-id")
    # Escape closes the dialog and acknowledges nothing.
    item.locator("[data-testid=banner-ack]").click()
    dialog = tab.locator("[data-testid=ack-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("textarea[name=note]")).to_be_focused()
    tab.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert server.get_json(f"/api/alerts/{alert_id}")["acknowledged"] is None

    banner.locator(f'[data-alert-id="{alert_id}"] [data-testid=banner-ack]').click()
    dialog.locator("textarea[name=note]").fill(NOTE)
    screenshot(tab, "console-acknowledge")
    dialog.get_by_role("button", name="Acknowledge").click()
    expect(dialog).to_have_count(0)
    expect(banner.locator(f'[data-alert-id="{alert_id}"]')).to_have_count(0)

    row = tab.locator(f'[data-testid=alert-row][data-alert-id="{alert_id}"]')
    expect(row.locator("[data-testid=alert-ack]")).to_contain_text("admin")
    expect(row.locator(".ack-note")).to_have_text(NOTE)
    assert row.locator(".ack-note b").count() == 0
    acknowledged = server.get_json(f"/api/alerts/{alert_id}")["acknowledged"]
    assert acknowledged["by"] == "admin" and acknowledged["note"] == NOTE

    # From the list too: the Acknowledge button of a firing alert.
    firing = (
        tab.locator("[data-testid=alert-row]")
        .filter(has=tab.locator("[data-testid=alert-ack-button]"))
        .first
    )
    other_id = firing.get_attribute("data-alert-id")
    firing.locator("[data-testid=alert-ack-button]").click()
    dialog.get_by_role("button", name="Acknowledge").click()
    expect(
        tab.locator(f'[data-testid=alert-row][data-alert-id="{other_id}"] [data-testid=alert-ack]')
    ).to_contain_text("admin")
    expect(tab.locator("[data-testid=event-detail]")).to_be_hidden()  # the row did not open
    screenshot(tab, "console-alerts-acknowledged")
    assert_clean(server, console)


def test_new_alerts_chime_when_the_sound_is_on(
    server: Server, rule: dict[str, Any], page: Page
) -> None:
    tab, console = page
    tab.goto(f"{server.url}/#/live", wait_until="domcontentloaded")
    sound = tab.locator("[data-testid=alert-sound]")
    expect(sound).to_have_attribute("aria-pressed", "false")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    expect(tab.locator("[data-testid=alert-banner][data-chimed]")).to_be_attached(
        timeout=FIRES_WITHIN_MS
    )
    tab.reload(wait_until="domcontentloaded")
    expect(sound).to_have_attribute("aria-pressed", "true")  # remembered in this browser
    assert_clean(server, console)


def test_a_hidden_page_notifies_the_desktop_of_new_alerts(
    server: Server, rule: dict[str, Any], hidden_page: tuple[Any, Console]
) -> None:
    tab, console = hidden_page
    tab.goto(f"{server.url}/#/live", wait_until="domcontentloaded")
    assert tab.evaluate("Notification.permission") == "granted"
    expect(tab.locator("[data-testid=alert-desktop]")).to_be_hidden()  # nothing to ask
    expect(tab.locator("[data-testid=alert-banner][data-notified]")).to_be_attached(
        timeout=FIRES_WITHIN_MS
    )
    assert_clean(server, console)


def test_the_rule_form_refuses_an_empty_rule_and_tries_a_rule_on_the_last_day(
    server: Server, rule: dict[str, Any], page: Page, screenshot: Shot
) -> None:
    tab, console = page
    tab.goto(f"{server.url}/#/alerts", wait_until="domcontentloaded")
    expect(tab.locator("[data-testid=new-rule]")).to_be_enabled(timeout=15_000)
    tab.locator("[data-testid=new-rule]").click()
    form = tab.locator("[data-testid=rule-form]")
    form.locator("input[name=name]").fill("Everything")
    form.get_by_role("button", name="Add rule").click()
    expect(form.locator(".error-box")).to_contain_text("type: the rule has no condition")
    expect(form.locator("input[name=type]")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("input[name=type]")).to_be_focused()

    form.locator("select[name=module]").select_option("zone")
    form.locator("select[name=zone]").select_option("walkway")
    form.locator("[data-testid=rule-try]").click()
    preview = form.locator("[data-testid=rule-preview]")
    expect(preview).to_contain_text(
        re.compile(
            r"In the last 24 hours this rule would have matched [1-9]\d* events? and fired "
            r"[1-9]\d* alerts?"
        )
    )
    screenshot(tab, "console-rule-try")
    assert [r["id"] for r in server.get_json("/api/alert-rules")] == [rule["id"]]
    assert_clean(server, console)
