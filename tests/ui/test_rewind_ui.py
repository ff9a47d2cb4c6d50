"""Multi-camera rewind on the live wall, in Chromium: both recording cameras go back to the same
past moment together, play their (face-blurred) recordings from there with one running clock,
and come back to live together."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
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


def frames_asked(tab: Any) -> dict[str, list[int]]:
    """The moments (epoch ms) each camera's tile asks recorded frames for, in order."""
    asked: dict[str, list[int]] = {camera: [] for camera in CAMERAS}

    def seen(request: Any) -> None:
        url = urlparse(request.url)
        for camera in CAMERAS:
            if url.path == f"/api/recordings/{camera}/frame.jpg":
                asked[camera].append(_ms(parse_qs(url.query)["at"][0]))

    tab.on("request", seen)
    return asked


def open_wall(tab: Any, server: Server) -> None:
    tab.goto(server.url + "/#/live", wait_until="domcontentloaded")
    expect(tab.locator("[data-testid=camera-tile]")).to_have_count(len(CAMERAS), timeout=30_000)


def rewind_to(tab: Any, moment: int) -> None:
    # The moment as the browser's datetime-local input takes it (its own time zone).
    local = tab.evaluate(
        "(ms) => { const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);"
        " return d.toISOString().slice(0, 19); }",
        moment,
    )
    tab.locator("[data-testid=rewind-at]").fill(local)
    tab.locator("[data-testid=rewind-go]").click()


def wait_for(tab: Any, done: Callable[[], bool], timeout_s: float = 60) -> None:
    """Lets the page run (and Playwright deliver its events) until `done()`."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the wall did not get there in time"
        tab.wait_for_timeout(100)


def test_the_wall_rewinds_every_camera_to_one_moment_and_returns_to_live(
    server: Server, page: Page
) -> None:
    moment = recorded_by_both(server)
    tab, console = page
    asked = frames_asked(tab)
    open_wall(tab, server)
    rewind_to(tab, moment)

    for camera in CAMERAS:
        tile = tab.locator(f"[data-camera-id={camera}]")
        expect(tile).to_have_attribute("data-past", "true")
        expect(tile.locator("[data-testid=tile-past]")).to_be_visible()
    wait_for(tab, lambda: all(asked[camera] for camera in CAMERAS))
    # Both tiles ask for the wall's moment: the one chosen (the input has second precision).
    firsts = [asked[camera][0] for camera in CAMERAS]
    assert all(abs(first - moment) < 1_000 for first in firsts), (firsts, moment)

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


def test_a_rewound_tile_that_gets_a_slow_frame_skips_ahead_to_the_walls_moment(
    server: Server, page: Page
) -> None:
    """One frame of camera north takes the server 2 s: the tile's next frame is the one at
    the wall's moment then, 2 s on, not the one after the slow frame (which would leave the
    tile 2 s behind the wall for good, as a paced stream does)."""
    moment = recorded_by_both(server)
    tab, console = page
    asked = frames_asked(tab)
    slowed: list[int] = []

    def third_is_slow(route: Any) -> None:
        if len(slowed) < 3:
            slowed.append(_ms(parse_qs(urlparse(route.request.url).query)["at"][0]))
            if len(slowed) == 3:
                time.sleep(2)
        route.continue_()

    tab.route("**/api/recordings/north/frame.jpg*", third_is_slow)
    open_wall(tab, server)
    rewind_to(tab, moment)
    wait_for(tab, lambda: len(asked["north"]) >= 5)

    north = asked["north"]
    assert north[3] - north[2] >= 2_000, f"the tile drifted behind the wall: asked {north}"
    # The frame a tile shows is the one recorded at the moment it asked for: within one
    # frame period of the tile (5 a second), never seconds behind.
    image = tab.locator("[data-camera-id=north] [data-testid=camera-image]")
    shown = image.evaluate("(i) => [Number(i.dataset.askedMs), Number(i.dataset.frameMs)]")
    assert 0 <= shown[1] - shown[0] < 200, shown
    tab.locator("[data-testid=rewind-live]").click()
    assert_clean(server, console)
