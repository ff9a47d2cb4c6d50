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


def test_an_admin_adds_and_edits_a_webhook_whose_secret_is_never_shown(
    server: Server, page: Any
) -> None:
    tab, console = page
    secret = "wh-s3cret-778"
    tab.goto(f"{server.url}/#/alerts", wait_until="domcontentloaded")
    section = tab.get_by_test_id("actions-section")
    section.get_by_test_id("new-action").click()
    form = section.get_by_test_id("action-form")
    form.locator("input[name=action_name]").fill("ops-hook")
    form.locator("input[name=url]").fill("https://hooks.example.org/vigil")
    form.locator("input[name=secret]").fill(secret)
    form.get_by_role("button", name="Save action").click()
    row = section.locator("[data-testid=action-row][data-action=ops-hook]")
    expect(row.get_by_test_id("action-target")).to_contain_text("hooks.example.org")
    expect(row).to_contain_text("secret set")

    row.get_by_role("button", name="Edit action ops-hook").click()
    form = section.get_by_test_id("action-form")
    secret_box = form.locator("input[name=secret]")
    expect(secret_box).to_have_value("")
    expect(secret_box).to_have_attribute("placeholder", "set — leave blank to keep")
    form.locator("input[name=url]").fill("https://pager.example.org/in")
    form.get_by_role("button", name="Save action").click()
    expect(row.get_by_test_id("action-target")).to_contain_text("pager.example.org")
    expect(row).to_contain_text("secret set")  # kept, though the field was left blank
    assert secret not in tab.content()
    [stored] = [a for a in server.get_json("/api/alert-actions") if a["name"] == "ops-hook"]
    assert stored["secrets_set"] == ["secret"] and secret not in str(stored)
    assert console.errors == []
