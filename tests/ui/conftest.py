"""Fixtures for the browser test: the real `vigil serve` on a free port, and Chromium.

The server runs as a subprocess with its own temporary store and media directory and two
cameras replaying the bundled clip; it is stopped by PID when the module's tests are done.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

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
STARTUP_TIMEOUT_S = 90
# Screenshots wait for the images in view to finish loading (live streams never finish).
VISIBLE_IMAGES_SETTLED = """() => [...document.images]
  .filter(image => image.getAttribute("src") && !image.src.includes(".mjpeg"))
  .filter(image => image.getBoundingClientRect().top < window.innerHeight)
  .every(image => image.complete)"""

# Geometry of the demo config (examples/demo.yaml), drawn for the 768×576 clip: a walkway zone
# and a counting line across it, so people in the clip produce zone, line and loitering events.
ZONE = {
    "name": "walkway",
    "polygon": [[0, 195], [560, 190], [768, 290], [768, 470], [430, 380], [250, 305], [0, 270]],
}
LINE = {"name": "lamp-post", "start": [380, 150], "end": [380, 420]}
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
class Server:
    url: str
    cameras: list[dict[str, Any]]
    log: Path

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.load(response)


@dataclass
class Console:
    """Console errors, uncaught exceptions and every requested URL of one page."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _vigil_command() -> list[str]:
    # The console script installed beside this interpreter (the project's venv).
    script = Path(sys.executable).with_name("vigil")
    assert script.exists(), f"{script} is missing; install the project: pip install -e .[test]"
    return [str(script)]


def _wait_for_health(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"vigil serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(
        f"vigil serve did not answer /healthz in {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian chromium is not installed (/usr/bin/chromium); apt-get install chromium"
        )
    assert CLIP.exists(), f"the bundled clip {CLIP} is missing"
    workdir = tmp_path_factory.mktemp("vigil-ui")
    port = _free_port()
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
    config = {
        "server": {"host": "127.0.0.1", "port": port},
        "store": {"url": f"sqlite:///{workdir / 'vigil.db'}", "media_dir": str(workdir / "media")},
        "cameras": cameras,
    }
    config_path = workdir / "vigil.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    log = workdir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*_vigil_command(), "serve", "--config", str(config_path)],
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log)
        yield Server(url, cameras, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Console]]:
    """A fresh page at a control-room size, with its console errors collected."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
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
