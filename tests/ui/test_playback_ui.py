"""The Playback page in Chromium: a recording camera's timeline shows recorded ranges and event
markers, a paused frame loads, Play streams and the clock runs, and an event marker seeks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.media import LINE, ZONE
from tests.server import Server, running_server
from tests.ui.conftest import CLIP, MODULES
from tests.ui.test_ui import Page, Shot, assert_clean, reload_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One camera replaying the clip, recorded continuously in 2 s segments."""
    camera = {
        "id": "plaza",
        "name": "Plaza",
        "url": str(CLIP),
        "analysis_fps": 5,
        "zones": [ZONE],
        "lines": [LINE],
        "modules": MODULES,
    }
    settings = {"recording": {"mode": "continuous", "segment_s": 2}}
    with running_server(tmp_path_factory.mktemp("vigil-playback"), [camera], settings) as up:
        yield up


def image_loaded(tab: Any) -> bool:
    return bool(
        tab.evaluate(
            "() => { const i = document.querySelector('[data-testid=playback-image]');"
            " return Boolean(i && i.complete && i.naturalWidth > 0); }"
        )
    )


def clock_ms(tab: Any) -> int:
    return int(tab.locator("[data-testid=playback-clock]").get_attribute("data-ms") or 0)


def test_timeline_plays_and_seeks_to_an_event(server: Server, page: Page, screenshot: Shot) -> None:
    tab, console = page
    tab.goto(server.url + "/#/playback", wait_until="domcontentloaded")
    recorded = tab.locator("[data-testid=timeline-recorded]")
    reload_until(tab, lambda: recorded.count() >= 1, 60, "a recorded range on the timeline")
    image = tab.locator("[data-testid=playback-image]")
    expect(image).to_have_attribute("src", _contains("frame.jpg"), timeout=10_000)
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=playback-image]').naturalWidth > 0",
        timeout=30_000,
    )

    tab.locator("[data-testid=playback-play]").click()
    expect(image).to_have_attribute("src", _contains("play.mjpeg"))
    began = clock_ms(tab)
    tab.wait_for_timeout(2_000)
    assert clock_ms(tab) > began, "the clock runs while playing"
    tab.locator("[data-testid=playback-play]").click()  # pause
    expect(image).to_have_attribute("src", _contains("frame.jpg"))

    markers = tab.locator("[data-testid=timeline-event]")
    reload_until(tab, lambda: markers.count() >= 1, 90, "an event marker on the timeline")
    # Markers of one busy minute overlap on a 10 min bar; the last drawn lies on top.
    marker = markers.last
    start = int(marker.get_attribute("data-start") or 0)
    marker.dispatch_event("click")
    assert clock_ms(tab) == start, "clicking an event marker seeks to the event"
    tab.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=playback-image]');"
        " return i.complete && i.naturalWidth > 0; }",
        timeout=30_000,
    )
    screenshot(tab, "playback")

    with tab.expect_download(timeout=240_000) as download:
        tab.locator("[data-testid=playback-export]").click()
    status = tab.locator("[data-testid=export-status]")
    sha256 = status.get_attribute("data-sha256") or ""
    assert len(sha256) == 64
    assert download.value.suggested_filename == "plaza-evidence.mp4"
    manifest = tab.request.get(f"{server.url}/api/recordings/exports/{sha256}")
    assert manifest.ok and manifest.json()["manifest"]["camera_id"] == "plaza"
    assert_clean(server, console)


def _contains(fragment: str) -> Any:
    import re

    return re.compile(re.escape(fragment))
