"""Fixtures for the browser test: the real `vigil serve` on a free port, and Chromium.

The server runs as a subprocess with its own temporary store and media directory and two
cameras replaying the bundled clip; it is stopped by PID when the module's tests are done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.media import LINE, ZONE
from tests.server import ADMIN, ADMIN_PASSWORD, Server, running_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CLIP = ROOT / "media" / "vtest.mp4"
ARTIFACTS = ROOT / "artifacts" / "ui"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots wait for the images in view to finish loading (live streams never finish).
VISIBLE_IMAGES_SETTLED = """() => [...document.images]
  .filter(image => image.getAttribute("src") && !image.src.includes(".mjpeg"))
  .filter(image => image.getBoundingClientRect().top < window.innerHeight)
  .every(image => image.complete)"""

# Every zone visit counts (no minimum duration): on a loaded 2-core machine the analysed rate
# drops and tracks break up, and the test must still see events within a minute.
MODULES = {
    "zone": {"classes": ["person", "bicycle", "car"]},
    "line": {"classes": ["person", "bicycle", "car"]},
    "loitering": {"threshold_s": 4},
}
# The second name carries markup and quotes: the UI must show it as typed, never parse it.
CAMERAS = [
    {"id": "plaza-east", "name": "Plaza east", "start_offset_s": 0},
    {"id": "gate-west", "name": 'Gate <b>West</b> & "Co"', "start_offset_s": 26},
]


@dataclass
class Console:
    """Console errors, uncaught exceptions and every requested URL of one page."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian chromium is not installed (/usr/bin/chromium); apt-get install chromium"
        )
    assert CLIP.exists(), f"the bundled clip {CLIP} is missing"
    workdir = tmp_path_factory.mktemp("vigil-ui")
    cameras = [
        {
            **camera,
            "url": str(CLIP),
            "analysis_fps": 5,
            "zones": [ZONE],
            "lines": [LINE],
            "modules": MODULES,
        }
        for camera in CAMERAS
    ]
    # The console tests add a camera at a loopback port that refuses connections (an unreachable
    # camera); the source policy refuses loopback unless the administrator admits it, as here.
    sources = {"sources": {"allow_networks": ["127.0.0.1/32"]}}
    with running_server(workdir, cameras, sources) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def log_in(context: Any, server: Server) -> None:
    """Log the browser context in as the server's admin, as the login page does (the
    session cookie lands in the context's cookie jar)."""
    response = context.request.post(
        server.url + "/api/auth/login", data={"username": ADMIN, "password": ADMIN_PASSWORD}
    )
    assert response.ok, response.text()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[tuple[Any, Console]]:
    """A fresh page at a control-room size, with its console errors collected."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    log_in(context, server)
    page = context.new_page()
    console = Console()
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and console.errors.append(f"{message.text} ({message.location.get('url', '')})")
        ),
    )
    page.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    page.on("request", lambda request: console.requests.append(request.url))
    yield page, console
    context.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        page.wait_for_function(VISIBLE_IMAGES_SETTLED, timeout=15_000)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
