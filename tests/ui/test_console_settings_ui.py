"""Operator settings of the console in Chromium against the real `vigil serve` (conftest.py):
which event types count as alerts on a camera (the rest just recorded)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server import Server

pytestmark = pytest.mark.browser


def test_an_admin_chooses_which_event_types_alert_on_a_camera(
    server: Server, page: Any
) -> None:
    tab, console = page
    tab.goto(f"{server.url}/#/alerts", wait_until="domcontentloaded")
    row = tab.locator("[data-testid=camera-alerting][data-camera-id=gate-west]")
    current = row.get_by_test_id("camera-alerting-current")
    expect(current).to_have_text("Default: every rule may alert", timeout=20_000)
    row.get_by_role("button", name="Change what alerts").click()
    form = row.get_by_test_id("camera-alerting-form")
    for box in form.locator("input[type=checkbox]").all():
        box.set_checked(box.get_attribute("value") == "loitering")
    form.get_by_role("button", name="Save").click()
    expect(current).to_have_text("Alerts: loitering; the rest is recorded")
    [stored] = [c for c in server.get_json("/api/alert-cameras") if c["camera_id"] == "gate-west"]
    assert stored["alert_types"] == ["loitering"]

    row.get_by_role("button", name="Change what alerts").click()
    row.get_by_role("button", name="Use default").click()
    expect(current).to_have_text("Default: every rule may alert")
    assert console.errors == []
