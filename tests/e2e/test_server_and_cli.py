"""The real server with real cameras, driven over HTTP and through the `vigil` CLI.

One good camera replays the bundled clip; one points at a closed RTSP port and one at a corrupt
file. The broken ones must report what is wrong and never stop the good one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.media import CLIP, LINE, ZONE
from tests.server import Server, free_port, running_server, vigil_command


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("vigil-e2e")
    corrupt = workdir / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(7).bytes(200_000))
    cameras = [
        {"id": "good", "name": "Good", "url": str(CLIP), "analysis_fps": 5,
         "zones": [ZONE], "lines": [LINE], "modules": {"zone": {}, "line": {}}},
        {"id": "unreachable", "url": f"rtsp://127.0.0.1:{free_port()}/nothing"},
        {"id": "corrupt", "url": str(corrupt)},
    ]
    # Cameras added through the API may read recordings only below sources.file_roots.
    settings = {"sources": {"file_roots": [str(CLIP.parent)]}}
    with running_server(workdir, cameras, settings) as running:
        yield running


def cli(server: Server, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*vigil_command(), *args, "--api", server.url],
        capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "VIGIL_TOKEN": server.token},
    )


def wait_until(check: object, timeout: float = 60.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()  # type: ignore[operator]
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def statuses(server: Server) -> dict[str, dict[str, object]]:
    return {camera["id"]: camera["status"] for camera in server.get_json("/api/cameras")}


def test_broken_cameras_report_errors_and_the_good_one_keeps_working(server: Server) -> None:
    def settled() -> dict[str, dict[str, object]] | None:
        now = statuses(server)
        ready = now["good"]["analysed_fps"] and now["unreachable"]["last_error"] and (
            now["corrupt"]["last_error"])
        return now if ready else None

    now = wait_until(settled)
    assert isinstance(now, dict), f"cameras never settled: {statuses(server)}"
    assert now["good"]["online"] is True
    assert now["unreachable"]["online"] is False
    assert "127.0.0.1" in str(now["unreachable"]["last_error"])
    assert now["corrupt"]["online"] is False
    assert "corrupt.mp4" in str(now["corrupt"]["last_error"])
    health = server.get_json("/healthz")
    assert health["cameras"] == 3 and health["online"] == 1


def test_events_of_the_good_camera_arrive_and_are_queryable(server: Server) -> None:
    def events() -> list[dict[str, object]]:
        return server.get_json("/api/events?camera=good&limit=100")["items"]

    items = wait_until(events, timeout=90)
    assert items, "no events from the clip within 90 s"
    assert {item["camera_id"] for item in items} == {"good"}
    with_snapshot = [item for item in items if item["snapshot"]]
    assert with_snapshot
    with server.open(f"/api/events/{with_snapshot[0]['id']}/snapshot.jpg") as response:
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.read()[:2] == b"\xff\xd8"


def test_live_view_is_a_scaled_jpeg_of_the_camera(server: Server) -> None:
    with server.open("/api/cameras/good/live.jpg?width=384") as response:
        image = cv2.imdecode(np.frombuffer(response.read(), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (288, 384, 3)  # the 768×576 clip, halved


def test_metrics_report_cameras_and_inference(server: Server) -> None:
    with server.open("/metrics") as response:
        text = response.read().decode()
    assert 'vigil_camera_online{camera="good"' in text
    assert 'vigil_camera_online{camera="unreachable"' in text
    # Process-wide figures add up every tenant: a system administrator's, not a tenant's.
    assert "vigil_inference_frames" not in text
    request = urllib.request.Request(
        server.url + "/metrics", headers={"Authorization": f"Bearer {sysadmin_token(server)}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    frames = [line for line in text.splitlines() if line.startswith("vigil_inference_frames")]
    assert frames and float(frames[0].split()[-1]) > 0


def sysadmin_token(server: Server) -> str:
    """A system administrator, made as `vigil users create-admin --system` makes one."""
    from vigil.auth.roles import Role
    from vigil.auth.store import AuthStore
    from vigil.config import load_config
    from vigil.domain.frames import now_ms
    from vigil.store import EventStore

    assert server.config is not None
    store = EventStore(load_config(server.config).store.url)
    try:
        users = AuthStore(store.engine)
        user = users.find_user("root") or users.create_user(
            "root", "a system administrator's password", Role.SYSADMIN, None
        )
        return users.create_token(user.id, "tests", None, now_ms() + 86_400_000)[1]
    finally:
        store.close()


def test_cli_lists_adds_and_removes_cameras(server: Server) -> None:
    listed = cli(server, "cameras", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {camera["id"] for camera in json.loads(listed.stdout)} == {"good", "unreachable",
                                                                    "corrupt"}
    added = cli(server, "cameras", "add", "extra", str(CLIP), "--fps", "2")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "camera extra added"  # the id the server gave it
    assert wait_until(lambda: statuses(server).get("extra", {}).get("online"), timeout=30)
    duplicate = cli(server, "cameras", "add", "extra", str(CLIP))
    assert duplicate.returncode != 0 and "extra" in duplicate.stderr
    removed = cli(server, "cameras", "remove", "extra")
    assert removed.returncode == 0, removed.stderr
    assert "extra" not in statuses(server)


def test_cli_queries_events(server: Server) -> None:
    assert wait_until(lambda: server.get_json("/api/events?limit=1")["items"], timeout=90)
    result = cli(server, "events", "--camera", "good", "--format", "json", "--limit", "5")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert 1 <= len(items) <= 5 and all(item["camera_id"] == "good" for item in items)


def test_cli_explains_an_unreachable_server() -> None:
    result = subprocess.run(
        [*vigil_command(), "cameras", "list", "--api", f"http://127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2 and "Is `vigil serve`" in result.stderr


@pytest.mark.sqlite_only(reason="vigil analyze writes a SQLite scratch store")
def test_analyze_prints_json_summary_and_progress(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(json.dumps({"cameras": [{
        "id": "clip", "url": "unused", "zones": [ZONE], "lines": [LINE],
        "modules": {"zone": {}, "line": {}},
    }]}))
    result = subprocess.run(
        [*vigil_command(), "analyze", str(CLIP), "--config", str(config), "--fps", "2", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["frames"] >= 150  # 79.5 s at 2 fps
    assert summary["tracks"].get("person", 0) > 0
    assert set(summary["events"]) <= {"zone", "line"} and summary["events"]
    assert summary["seconds"] > 0
    assert "analysing vtest.mp4" in result.stderr  # the progress bar goes to stderr


@pytest.mark.sqlite_only(reason="opens no store: a corrupt clip and a bad config are refused")
def test_analyze_and_serve_explain_bad_input(tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"\x00not a video" * 1000)
    result = subprocess.run([*vigil_command(), "analyze", str(corrupt), "--json"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "broken.mp4" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras:\n  - id: Bad Id\n    url: x.mp4\n    fps: 3\n")
    result = subprocess.run([*vigil_command(), "serve", "--config", str(bad)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "cameras[0].id" in result.stderr and "cameras[0].fps: unknown key" in result.stderr


def test_serve_on_a_taken_port_says_so_before_starting_cameras(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "vigil.yaml"
    config.write_text(f"server:\n  host: 127.0.0.1\n  port: {port}\n"
                      f"store:\n  url: sqlite:///{tmp_path / 'vigil.db'}\n")
    with socket.create_server(("127.0.0.1", port)):  # another server holds the port
        result = subprocess.run([*vigil_command(), "serve", "--config", str(config)],
                                capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert not (tmp_path / "vigil.db").exists()  # nothing was started
