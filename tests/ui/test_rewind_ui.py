"""Multi-camera rewind on the live wall, in Chromium: both recording cameras go back to the same
past moment together, play their (face-blurred) recordings from there with one running clock,
and come back to live together."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.server import Server, running_server
from tests.ui.conftest import CLIP
from tests.ui.test_ui import Page, assert_clean

pytestmark = pytest.mark.browser

CAMERAS = ("north", "south")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two cameras replaying the clip, both recorded continuously in 2 s segments."""
    cameras = [
        {"id": camera, "name": camera.title(), "url": str(CLIP), "analysis_fps": 1}
        for camera in CAMERAS
    ]
    settings = {"recording": {"mode": "continuous", "segment_s": 2}}
    with running_server(tmp_path_factory.mktemp("vigil-rewind"), cameras, settings) as up:
        yield up


def recorded_by_both(server: Server, timeout_s: float = 120) -> int:
    """A moment (epoch ms) both cameras have recorded, once they have."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        starts, ends = [], []
        for camera in CAMERAS:
            ranges = server.get_json(f"/api/recordings/{camera}/timeline")["recorded"]
            if ranges:
                starts.append(_ms(ranges[0]["start"]))
                ends.append(_ms(ranges[-1]["end"]))
        if len(starts) == len(CAMERAS) and max(starts) + 1_000 < min(ends):
            return max(starts) + 500
        time.sleep(1)
    raise AssertionError("the two cameras did not record a common moment in time")


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def tile_source(tab: Any, camera: str) -> str:
    image = tab.locator(f"[data-camera-id={camera}] [data-testid=camera-image]")
    return image.get_attribute("src") or ""


def test_the_wall_rewinds_every_camera_to_one_moment_and_returns_to_live(
    server: Server, page: Page
) -> None:
    moment = recorded_by_both(server)
    tab, console = page
    tab.goto(server.url + "/#/live", wait_until="domcontentloaded")
    tiles = tab.locator("[data-testid=camera-tile]")
    expect(tiles).to_have_count(len(CAMERAS), timeout=30_000)

    # The moment as the browser's datetime-local input takes it (its own time zone).
    local = tab.evaluate(
        "(ms) => { const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);"
        " return d.toISOString().slice(0, 19); }",
        moment,
    )
    tab.locator("[data-testid=rewind-at]").fill(local)
    tab.locator("[data-testid=rewind-go]").click()

    starts = set()
    for camera in CAMERAS:
        tile = tab.locator(f"[data-camera-id={camera}]")
        expect(tile).to_have_attribute("data-past", "true")
        expect(tile.locator("[data-testid=tile-past]")).to_be_visible()
        source = urlparse(tile_source(tab, camera))
        assert source.path == f"/api/recordings/{camera}/play.mjpeg"
        starts.add(parse_qs(source.query)["start"][0])
    # Whole seconds: the input has second precision, and both tiles start from it together.
    assert len(starts) == 1, f"the cameras went back to different moments: {starts}"
    assert abs(_ms(starts.pop()) - moment) < 1_000

    # Both recordings arrive (MJPEG frames decode into the images) and the wall's clock runs.
    tab.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=camera-image]')]"
        ".every((i) => i.naturalWidth > 0)",
        timeout=60_000,
    )
    clock = tab.locator("[data-testid=rewind-clock]")
    first = int(clock.get_attribute("data-ms") or 0)
    assert abs(first - moment) < 60_000
    tab.wait_for_function(
        f"() => Number(document.querySelector('[data-testid=rewind-clock]').dataset.ms) > {first}",
        timeout=10_000,
    )

    tab.locator("[data-testid=rewind-live]").click()
    for camera in CAMERAS:
        tile = tab.locator(f"[data-camera-id={camera}]")
        expect(tile).to_have_attribute("data-past", "false")
        expect(tile.locator("[data-testid=tile-past]")).to_be_hidden()
        expect(tile.locator("[data-testid=camera-image]")).to_have_attribute(
            "src", re.compile(rf"/api/cameras/{camera}/")
        )
    expect(tab.locator("[data-testid=rewind-live]")).to_be_hidden()
    assert_clean(server, console)
