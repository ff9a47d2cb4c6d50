"""Bringing up a site in Chromium: the Cameras page against the real `vigil serve`.

An integrator adds a camera (a wrong address first, then the bundled clip), sees the
face-blurred preview, is told on the field what is wrong with a crossing zone and a zero-length
line, draws a counting line, switches the line module on, saves, and watches the camera count
crossings on that line. The screenshots are the ones docs/ui.md shows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from tests.media import LINE
from tests.onvif_device import running_onvif_device
from tests.server import Server, running_server
from tests.sources.rtsp_process import RtspServerProcess, rtsp_server_unavailable
from tests.ui.conftest import CHROMIUM, CLIP

pytestmark = pytest.mark.browser

Page = tuple[Any, Any]
Shot = Callable[[Any, str], Path]
# Recorded in events mode: with no modules it has no events, so it waits in standby.
CONFIG_CAMERA = {
    "id": "lobby",
    "name": "Lobby",
    "url": str(CLIP),
    "analysis_fps": 2,
    "recording": {"mode": "events"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One camera declared in the config file; the test adds the other from the browser."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    # The cameras added from the browser read the bundled clip and the test RTSP/ONVIF
    # servers on 127.0.0.1: the source policy admits exactly those on purpose.
    sources = {"file_roots": [str(CLIP.parent)], "allow_networks": ["127.0.0.1/32"]}
    with running_server(
        tmp_path_factory.mktemp("vigil-site"), [CONFIG_CAMERA], {"sources": sources}
    ) as running:
        yield running


def click_image(tab: Any, x: float, y: float) -> None:
    """Click the drawing area at pixel (x, y) of the camera image."""
    canvas = tab.locator("[data-testid=editor-canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    natural = tab.locator("[data-testid=editor-image]").evaluate(
        "image => [image.naturalWidth, image.naturalHeight]"
    )
    tab.mouse.click(
        box["x"] + x * box["width"] / natural[0], box["y"] + y * box["height"] / natural[1]
    )


def assert_no_console_errors(console: Any) -> None:
    # A failed probe is a 200 with ok: false, and validation problems are a 200 too: a
    # setup session with mistakes in it still logs nothing as an error.
    assert console.errors == [], f"console errors: {console.errors}"


def test_config_camera_is_listed_read_only(server: Server, page: Page, screenshot: Shot) -> None:
    tab, console = page
    tab.goto(server.url + "/#/cameras", wait_until="domcontentloaded")
    row = tab.locator('[data-testid=camera-row][data-camera-id="lobby"]')
    expect(row.locator("[data-testid=read-only]")).to_have_text("config file (read-only)")
    expect(row.locator("[data-testid=camera-state]")).to_have_text("online", timeout=60_000)
    expect(row.get_by_role("button", name="Delete")).to_have_count(0)
    expect(row.get_by_test_id("camera-recording")).to_have_text("standby")
    row.get_by_role("link", name="View").click()
    expect(tab.locator("[data-testid=read-only-reason]")).to_contain_text("config file")
    expect(tab.locator("[data-testid=save-camera]")).to_have_count(0)
    expect(tab.locator("[data-testid=camera-url]")).to_be_disabled()
    assert_no_console_errors(console)


def test_add_camera_draw_a_line_and_count_crossings(
    server: Server, page: Page, screenshot: Shot
) -> None:
    tab, console = page
    tab.goto(server.url + "/#/cameras", wait_until="domcontentloaded")
    tab.get_by_test_id("add-camera").click()
    tab.get_by_test_id("camera-id").fill("walkway")
    tab.get_by_test_id("camera-name").fill("Walkway")

    # A wrong address: told why, beside the URL, before anything is saved.
    tab.get_by_test_id("camera-url").fill("rtsp://127.0.0.1:1/stream")
    tab.get_by_test_id("test-connection").click()
    problem = tab.get_by_test_id("probe-problem")
    expect(problem).to_contain_text("Connection refused", timeout=30_000)
    screenshot(tab, "site-probe-failed")

    tab.get_by_test_id("camera-url").fill(str(CLIP))
    tab.get_by_test_id("test-connection").click()
    expect(tab.get_by_test_id("probe-result")).to_have_attribute("data-state", "ok", timeout=30_000)
    expect(tab.get_by_test_id("editor")).to_have_attribute("data-ready", "true", timeout=15_000)

    # A zone whose edges cross: the server's check, shown on the zone.
    tab.locator("[data-tool=zone]").click()
    for x, y in [(100, 200), (400, 450), (400, 200), (100, 450)]:
        click_image(tab, x, y)
    tab.get_by_test_id("editor").press("Enter")
    expect(tab.get_by_test_id("zones-row")).to_have_count(1)
    # A line of zero length: two clicks on one spot.
    tab.locator("[data-tool=line]").click()
    click_image(tab, 600, 300)
    click_image(tab, 600, 300)
    tab.get_by_test_id("save-camera").click()
    zone_error = tab.locator('[data-error-for="zones.0.polygon"]')
    expect(zone_error).to_contain_text("crosses itself", timeout=15_000)
    expect(tab.locator('[data-error-for="lines.0"]')).to_contain_text("zero length")
    screenshot(tab, "site-drawing-problems")
    assert tab.request.get(server.url + "/api/cameras/walkway").status == 404

    tab.get_by_test_id("editor-undo").click()  # the zero-length line
    tab.get_by_test_id("editor-undo").click()  # the crossing zone
    expect(tab.get_by_test_id("zones-row")).to_have_count(0)
    expect(tab.get_by_test_id("lines-row")).to_have_count(0)

    # The counting line across the walkway, with the line module switched on.
    tab.locator("[data-tool=line]").click()
    click_image(tab, *LINE["start"])
    click_image(tab, *LINE["end"])
    line_row = tab.get_by_test_id("lines-row")
    expect(line_row).to_have_count(1)
    line_row.locator('[data-field="lines.0.name"]').fill("lamp-post")
    line_row.locator('[data-field="lines.0.name"]').press("Tab")
    tab.locator('[data-testid=module-switch][data-module="line"]').check()
    screenshot(tab, "site-draw-line")
    tab.get_by_test_id("save-camera").click()

    # Saved: the page becomes the camera's own, and the running camera counts on the line.
    expect(tab).to_have_url(server.url + "/#/cameras/walkway", timeout=15_000)
    saved = tab.request.get(server.url + "/api/cameras/walkway").json()
    (line,) = saved["lines"]
    assert line["name"] == "lamp-post"
    assert (
        abs(line["start"][0] - LINE["start"][0]) <= 3 and abs(line["end"][1] - LINE["end"][1]) <= 3
    )
    assert saved["modules"] == {"line": {}}
    count = tab.locator('[data-testid=line-count][data-line="lamp-post"]')
    expect(count).to_have_count(1, timeout=60_000)
    tab.wait_for_function(
        """() => Number(document.querySelector('[data-testid=line-count][data-line="lamp-post"]')
            ?.dataset.total ?? 0) > 0""",
        timeout=180_000,
    )
    screenshot(tab, "site-counting")

    tab.goto(server.url + "/#/cameras", wait_until="domcontentloaded")
    row = tab.locator('[data-testid=camera-row][data-camera-id="walkway"]')
    expect(row.locator("[data-testid=camera-state]")).to_have_text("online", timeout=30_000)
    expect(row.get_by_test_id("camera-recording")).to_have_text("off")
    screenshot(tab, "site-cameras")
    assert_no_console_errors(console)


def test_module_setting_error_is_shown_on_its_field(server: Server, page: Page) -> None:
    tab, console = page
    tab.goto(server.url + "/#/cameras/walkway", wait_until="domcontentloaded")
    form = tab.locator('.module-form[data-module="line"]')
    setting = form.locator('[data-field="modules.line.min_crossing_frames"]')
    setting.fill("0")
    tab.get_by_test_id("save-camera").click()
    error = tab.locator('[data-error-for="modules.line.min_crossing_frames"]')
    expect(error).to_contain_text("greater than or equal to 1", timeout=15_000)
    expect(setting).to_have_attribute("aria-invalid", "true")
    stored = tab.request.get(server.url + "/api/cameras/walkway").json()
    assert stored["modules"] == {"line": {}}
    assert_no_console_errors(console)


def test_live_tile_previews_unsaved_geometry(server: Server, page: Page, screenshot: Shot) -> None:
    """A zone drawn but not saved shows on the live tile at once, over the bare frame; the
    camera keeps analysing the saved geometry until Save, then the server draws it."""
    tab, console = page
    tab.goto(server.url + "/#/cameras/walkway", wait_until="domcontentloaded")
    live = tab.get_by_test_id("camera-live")
    expect(live).to_have_attribute("src", re.compile(r"overlay=true"), timeout=30_000)
    expect(tab.get_by_test_id("editor")).to_have_attribute("data-ready", "true", timeout=30_000)
    overlay = tab.get_by_test_id("live-preview-overlay")
    expect(overlay.locator("polygon")).to_have_count(0)

    tab.locator("[data-tool=zone]").click()
    corners = [(150, 150), (450, 150), (450, 400), (150, 400)]
    for x, y in corners:
        click_image(tab, x, y)
    tab.get_by_test_id("editor").press("Enter")
    zone = overlay.locator('polygon[data-name="zone-1"]')
    expect(zone).to_have_count(1)
    points = zone.get_attribute("points") or ""
    drawn = [tuple(float(n) for n in pair.split(",")) for pair in points.split()]
    assert len(drawn) == len(corners)
    for (x, y), (cx, cy) in zip(drawn, corners, strict=True):
        assert abs(x - cx) <= 3 and abs(y - cy) <= 3
    # The saved line is still shown (the editor's whole geometry), over the frame without the
    # server's drawing of the saved geometry.
    expect(overlay.locator('line[data-name="lamp-post"]')).to_have_count(1)
    expect(live).to_have_attribute("src", re.compile(r"overlay=false"), timeout=15_000)
    expect(tab.get_by_test_id("live-preview-note")).to_be_visible()
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=camera-live]').naturalWidth > 0",
        timeout=30_000,
    )
    tab.get_by_test_id("live-preview").scroll_into_view_if_needed()
    screenshot(tab, "site-live-preview")
    assert tab.request.get(server.url + "/api/cameras/walkway").json()["zones"] == []

    tab.get_by_test_id("editor-undo").click()
    expect(zone).to_have_count(0)
    tab.locator("[data-tool=zone]").click()
    for x, y in corners:
        click_image(tab, x, y)
    tab.get_by_test_id("editor").press("Enter")
    tab.get_by_test_id("save-camera").click()
    expect(tab.get_by_test_id("saved-note")).to_contain_text("Saved", timeout=15_000)
    expect(overlay.locator("polygon")).to_have_count(0)
    expect(tab.get_by_test_id("live-preview-note")).to_be_hidden()
    # The restarted camera's next frame comes with the server's drawing again.
    expect(live).to_have_attribute("src", re.compile(r"overlay=true"), timeout=60_000)
    (saved,) = tab.request.get(server.url + "/api/cameras/walkway").json()["zones"]
    assert saved["name"] == "zone-1"
    assert_no_console_errors(console)


def test_ptz_camera_goes_to_a_preset_zooms_and_returns_home(
    server: Server, page: Page, screenshot: Shot
) -> None:
    """A PTZ camera saved with its ONVIF address: the page sends it to a preset through the
    server (which holds the credentials, never shown), and it comes home by itself, also after
    a zoom by hand has paused its modules."""
    tab, console = page
    with running_onvif_device("rtsp://127.0.0.1:1/unused") as (device, _udp_port):
        onvif_url = f"http://{device.username}:{device.password}@127.0.0.1:{device.port}"
        mast = {
            "id": "mast",
            "name": "Mast",
            "url": str(CLIP),
            "enabled": False,  # the move, not the analysis, is under test here
            "ptz": {
                "onvif_url": onvif_url,
                "profile": "main",
                "home_preset": "1",
                "return_home_s": 3,
                "settle_s": 0.5,
                "presets": {"2": {"lines": [LINE]}},
            },
        }
        server.send("POST", "/api/cameras", mast)
        try:
            tab.goto(server.url + "/#/cameras/mast", wait_until="domcontentloaded")
            state = tab.get_by_test_id("ptz-state")
            expect(state).to_contain_text("Not moved", timeout=15_000)
            tab.get_by_test_id("ptz-panel").locator('[data-preset="2"]').click()
            expect(state).to_have_attribute("data-preset", "2", timeout=15_000)
            assert device.position == "2"
            expect(state).to_contain_text("returns home in", timeout=15_000)
            screenshot(tab, "site-ptz")
            expect(state).to_contain_text("At preset 1 (home)", timeout=30_000)
            assert device.position == "1"
            tab.get_by_role("button", name="Zoom in").click()
            expect(state).to_contain_text("at no preset: modules paused", timeout=15_000)
            assert device.moves == [(0.0, 0.0, 0.1)] and device.position is None
            expect(state).to_contain_text("At preset 1 (home)", timeout=30_000)
            assert device.password not in tab.content()
        finally:
            server.send("DELETE", "/api/cameras/mast")
    assert_no_console_errors(console)


def test_zones_and_lines_drawn_for_a_ptz_preset(server: Server, page: Page) -> None:
    """A PTZ camera's lines belong to a preset: drawn with that preset chosen, saved into its
    `ptz.presets`, leaving the camera's own geometry and the other presets as they were."""
    tab, console = page
    pole = {
        "id": "pole",
        "url": str(CLIP),
        "enabled": False,
        "ptz": {"onvif_url": "http://admin:pole-pass@127.0.0.1:1", "profile": "main",
                "home_preset": "1"},
    }
    server.send("POST", "/api/cameras", pole)
    try:
        tab.goto(server.url + "/#/cameras/pole", wait_until="domcontentloaded")
        expect(tab.get_by_test_id("editor")).to_have_attribute("data-ready", "true", timeout=30_000)
        tab.get_by_test_id("new-preset-token").fill("2")
        tab.get_by_role("button", name="Add preset geometry").click()
        expect(tab.get_by_test_id("geometry-preset")).to_have_value("2")
        tab.locator("[data-tool=line]").click()
        click_image(tab, *LINE["start"])
        click_image(tab, *LINE["end"])
        expect(tab.get_by_test_id("lines-row")).to_have_count(1)
        tab.get_by_test_id("geometry-preset").select_option("")
        expect(tab.get_by_test_id("lines-row")).to_have_count(0)
        tab.get_by_test_id("geometry-preset").select_option("2")
        expect(tab.get_by_test_id("lines-row")).to_have_count(1)
        tab.get_by_test_id("save-camera").click()
        expect(tab.get_by_test_id("saved-note")).to_contain_text("Saved", timeout=15_000)

        saved = server.send("GET", "/api/cameras/pole")
        assert saved["lines"] == [] and saved["zones"] == []
        assert set(saved["ptz"]["presets"]) == {"2"}  # home ("1") untouched: the camera's own
        (line,) = saved["ptz"]["presets"]["2"]["lines"]
        assert abs(line["start"][0] - LINE["start"][0]) <= 3
        assert abs(line["end"][1] - LINE["end"][1]) <= 3
        assert saved["ptz"]["onvif_url"] == "http://***@127.0.0.1:1"
        assert "pole-pass" not in tab.content()
    finally:
        server.send("DELETE", "/api/cameras/pole")
    assert_no_console_errors(console)


def floor_plan(path: Path) -> Path:
    """A drawn floor plan: walls and a corridor, as an architect's PNG would show them."""
    plan = np.full((800, 1200, 3), 235, np.uint8)
    cv2.rectangle(plan, (40, 40), (1160, 760), (60, 60, 60), 8)
    cv2.line(plan, (600, 40), (600, 500), (60, 60, 60), 6)
    cv2.putText(plan, "Lobby", (200, 300), cv2.FONT_HERSHEY_SIMPLEX, 2, (90, 90, 90), 3)
    cv2.imwrite(str(path), plan)
    return path


def test_map_with_a_floor_plan_shows_cameras_and_live_events(
    server: Server, page: Page, screenshot: Shot, tmp_path: Path
) -> None:
    tab, console = page
    tab.goto(server.url + "/#/map", wait_until="domcontentloaded")
    expect(tab.get_by_test_id("map-empty")).to_be_visible(timeout=15_000)
    tab.get_by_test_id("plan-file").set_input_files(str(floor_plan(tmp_path / "plan.png")))
    tab.get_by_test_id("upload-plan").click()
    tab.wait_for_function(
        "() => [...document.querySelectorAll('.leaflet-image-layer')]"
        ".some(image => image.complete && image.naturalWidth === 1200)",
        timeout=15_000,
    )
    tab.locator('[data-testid=place-camera][data-camera-id="walkway"]').click()
    box = tab.get_by_test_id("site-map").bounding_box()
    tab.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    marker = tab.locator('[data-testid=map-camera][data-camera-id="walkway"]')
    expect(marker).to_have_count(1, timeout=15_000)
    tab.get_by_test_id("place-direction_deg").fill("90")
    tab.get_by_test_id("place-direction_deg").press("Enter")
    tab.get_by_test_id("place-fov_deg").fill("60")
    tab.get_by_test_id("place-fov_deg").press("Enter")
    expect(tab.locator("path.fov")).to_have_count(1)

    deadline = time.monotonic() + 15
    while True:  # each change is saved in turn
        (place,) = tab.request.get(server.url + "/api/site").json()["places"]
        if (place["direction_deg"], place["fov_deg"]) == (90, 60) or time.monotonic() > deadline:
            break
        tab.wait_for_timeout(250)
    assert (place["camera_id"], place["direction_deg"], place["fov_deg"]) == ("walkway", 90, 60)
    assert 0 < place["x"] < 1200 and 0 < place["y"] < 800  # plan pixels

    tab.reload(wait_until="domcontentloaded")
    expect(marker).to_have_count(1, timeout=15_000)
    # The walkway camera counts people on its line: their crossings flash on the map.
    row = tab.locator('[data-testid=map-event][data-camera-id="walkway"]').first
    expect(row).to_be_visible(timeout=180_000)
    screenshot(tab, "site-map")
    assert_clean_requests(server, console)


def assert_clean_requests(server: Server, console: Any) -> None:
    assert_no_console_errors(console)
    outside = [url for url in console.requests if not url.startswith((server.url, "data:"))]
    assert outside == [], f"requests outside the Vigil server: {outside}"


def test_discover_an_onvif_camera_and_use_its_profile(
    server: Server, page: Page, screenshot: Shot, tmp_path: Path
) -> None:
    """Discover → choose → read profiles → analyse the profile's RTSP stream (it plays, the
    preview is shown) → move the PTZ camera to a preset; against the loopback ONVIF device."""
    reason = rtsp_server_unavailable()
    if reason is not None:
        pytest.skip(reason)
    tab, console = page
    rtsp = RtspServerProcess(CLIP, log_path=tmp_path / "rtsp.log")
    rtsp.start()
    try:
        with running_onvif_device(rtsp.url) as (device, udp_port):
            tab.goto(server.url + "/#/cameras/new", wait_until="domcontentloaded")
            tab.get_by_test_id("onvif-panel").locator("summary").click()
            tab.get_by_test_id("onvif-address").fill("127.0.0.1")
            tab.get_by_test_id("onvif-udp-port").fill(str(udp_port))
            tab.get_by_test_id("onvif-discover").click()
            found = tab.get_by_test_id("onvif-camera")
            expect(found).to_contain_text("LoopbackPTZ", timeout=15_000)
            found.get_by_role("button", name="Choose").click()
            expect(tab.get_by_test_id("onvif-port")).to_have_value(str(device.port))
            tab.get_by_test_id("onvif-username").fill(device.username)
            tab.get_by_test_id("onvif-password").fill(device.password)
            tab.get_by_test_id("onvif-read").click()
            profile = tab.locator('[data-testid=onvif-profile][data-token="main"]')
            expect(profile).to_contain_text("768×576 H264", timeout=15_000)
            profile.get_by_test_id("use-as-url").click()
            url = tab.get_by_test_id("camera-url")
            expect(url).to_have_value(rtsp.url.replace("rtsp://", "rtsp://admin:camera-pass@"))
            result = tab.get_by_test_id("probe-result")
            expect(result).to_have_attribute("data-state", "ok", timeout=30_000)
            expect(tab.get_by_test_id("editor")).to_have_attribute("data-ready", "true")
            profile.get_by_role("button", name="Go to Gate").click()
            deadline = time.monotonic() + 15
            while device.position != "2" and time.monotonic() < deadline:
                tab.wait_for_timeout(200)
            assert device.position == "2"
            screenshot(tab, "site-onvif")
    finally:
        rtsp.stop()
    assert_clean_requests(server, console)
