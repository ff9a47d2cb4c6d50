"""The Cameras page in Chromium shows each camera's decoding path: a camera set to decode on
the GPU says which path it uses and, on a machine without one (as here), why it fell back to
the CPU; the real `vigil serve` (see conftest.py) decodes the bundled clip."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server import Server

pytestmark = pytest.mark.browser


def test_cameras_page_shows_the_decoder_and_why_it_fell_back(
    server: Server, page: tuple[Any, Any]
) -> None:
    tab, console = page
    camera = tab.request.get(server.url + "/api/cameras/gate-west").json()
    settings = {key: value for key, value in camera.items() if key not in ("origin", "status")}
    # As the page's own writes do: the session's CSRF token (double-submit cookie) as a header.
    token = next(c["value"] for c in tab.context.cookies() if c["name"] == "vigil_csrf")
    changed = tab.request.put(
        server.url + "/api/cameras/gate-west",
        data={**settings, "hardware_decode": True},
        headers={"X-CSRF-Token": token},
    )
    assert changed.ok, changed.text()
    assert changed.json()["hardware_decode"] is True

    tab.goto(server.url + "/#/cameras")
    row = tab.locator('[data-testid="camera-row"][data-camera-id="gate-west"]')
    expect(row).to_be_visible()
    # The list refreshes itself: the note appears once the restarted reader has opened the clip.
    decoder = row.get_by_test_id("camera-decoder")
    expect(decoder).to_contain_text("CPU (hardware decode unavailable", timeout=30_000)
    # A camera that never asked for the GPU gets no decoder note.
    other = tab.locator('[data-testid="camera-row"][data-camera-id="plaza-east"]')
    expect(other.get_by_test_id("camera-state")).to_be_visible()
    expect(other.get_by_test_id("camera-decoder")).to_have_count(0)
    assert console.errors == [], f"console errors: {console.errors}"
