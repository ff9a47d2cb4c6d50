"""The event detail's evidence actions in Chromium against a real, recording `vigil serve`:
"Add to case" puts the event under a new case's evidence lock, and "Export" downloads its
face-blurred recording whose SHA-256 the server audited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.media import LINE, ZONE
from tests.server import Server, running_server
from tests.ui.conftest import CLIP, MODULES

pytestmark = pytest.mark.browser

Page = tuple[Any, Any]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One camera replaying the clip, recorded continuously in 2 s segments."""
    camera = {"id": "plaza", "name": "Plaza", "url": str(CLIP), "analysis_fps": 5,
              "zones": [ZONE], "lines": [LINE], "modules": MODULES}
    settings = {"recording": {"mode": "continuous", "segment_s": 2}}
    with running_server(tmp_path_factory.mktemp("vigil-evidence"), [camera], settings) as up:
        yield up


def recorded_event(server: Server) -> dict[str, Any]:
    """A short event whose span (±5 s) the recording already holds."""
    deadline = time.monotonic() + 120
    while True:
        now = time.time() * 1000
        items = server.get_json("/api/events?camera=plaza&limit=200")["items"]
        done = [e for e in items if e["end_ms"] and e["end_ms"] - e["start_ms"] < 5_000
                and e["end_ms"] < now - 15_000]
        if done:
            return dict(done[0])
        assert time.monotonic() < deadline, "no finished short event on the recorded camera"
        time.sleep(2)


def test_an_event_is_added_to_a_case_and_exported_from_its_detail(
    server: Server, page: Page
) -> None:
    tab, console = page
    event = recorded_event(server)
    tab.goto(f"{server.url}/#/events?camera=plaza", wait_until="domcontentloaded")
    tab.locator(f'[data-event-id="{event["id"]}"]').click(timeout=15_000)
    detail = tab.locator("[data-testid=event-detail]")
    status = detail.get_by_test_id("detail-evidence-status")

    detail.get_by_test_id("detail-add-to-case").click()
    form = detail.get_by_test_id("case-form")
    form.get_by_label("Case name").fill("Night patrol 7")
    form.get_by_label("Purpose of the case").fill("damage to the plaza bench")
    form.get_by_role("button", name="Add").click()
    expect(status).to_have_text('Added to case "Night patrol 7".')
    [case] = [c for c in server.get_json("/api/cases") if c["name"] == "Night patrol 7"]
    assert case["event_ids"] == [event["id"]] and case["released"] is None

    with tab.expect_download(timeout=240_000) as download:
        detail.get_by_test_id("detail-export").click()
    sha256 = status.get_attribute("data-sha256") or ""
    assert len(sha256) == 64
    assert download.value.suggested_filename == f"plaza-{event['id']}.mp4"
    manifest = server.get_json(f"/api/recordings/exports/{sha256}")["manifest"]
    assert manifest["camera_id"] == "plaza"
    assert console.errors == []
