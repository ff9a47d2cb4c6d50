"""Regenerate docs/img/ui-live.png: run the demo, let it analyse for a while, photograph the UI.

Usage: .venv/bin/python tools/readme_screenshot.py [--wait 45]
Needs Debian's chromium (scripts/setup --test installs it).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PORT = 8097
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=45, help="seconds of analysis first")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "ui-live.png")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="vigil-shot-"))
    vigil = Path(sys.executable).with_name("vigil")
    demo = subprocess.Popen([str(vigil), "demo", "--port", str(PORT), "--data", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{PORT}"
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(args.wait)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url + "/#/live")
            page.wait_for_timeout(8000)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
        print(f"wrote {args.out}")
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
