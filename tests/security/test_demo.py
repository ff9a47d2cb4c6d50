"""`vigil demo` stays one command: it prints a one-time link that opens the UI logged in."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.server import free_port, vigil_command


# `vigil demo` always keeps a SQLite store in --data (vigil.cli.main.demo): the PostgreSQL run
# would repeat the same SQLite run. `vigil serve` on PostgreSQL is covered by tests/e2e, tests/ui.
@pytest.mark.sqlite_only(reason="vigil demo writes a SQLite store")
def test_demo_prints_a_one_time_link_that_logs_the_browser_in(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*vigil_command(), "demo", "--port", str(port), "--data", str(tmp_path / "demo")],
            stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
    try:
        link = None
        deadline = time.monotonic() + 120
        while link is None and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            found = re.search(r"http://127\.0\.0\.1:\d+/api/auth/link\?code=\S+", log.read_text())
            link = found.group(0) if found else None
            time.sleep(0.5)
        assert link, log.read_text()[-3000:]
        password = re.search(r"the password: (\S+)", log.read_text())
        assert password is not None
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as browser:
            assert browser.get("/api/cameras").status_code == 401
            opened = browser.get(link, follow_redirects=True)
            assert opened.status_code == 200 and "<html" in opened.text  # the UI
            me = browser.get("/api/auth/me").json()
            assert (me["username"], me["role"]) == ("demo", "admin")
            cameras = browser.get("/api/cameras").json()
            assert {c["id"] for c in cameras} == {"plaza-east", "plaza-west", "plaza-north"}
        assert httpx.get(link, timeout=10).status_code == 401  # used up
        login = httpx.post(f"{base}/api/auth/login", timeout=10,
                           json={"username": "demo", "password": password.group(1)})
        assert login.status_code == 200
        key = tmp_path / "demo" / "vigil.key"
        assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
