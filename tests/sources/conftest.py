"""Fixtures for source tests: media files, an HTTP camera and a GStreamer RTSP camera."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sources.clips import write_clip, write_jpeg
from tests.sources.http_camera import HttpCamera, running_http_camera
from tests.sources.rtsp_process import RtspServerProcess, rtsp_server_unavailable

DEMO_CLIP = Path(__file__).resolve().parents[2] / "media" / "vtest.mp4"


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("source-media")


@pytest.fixture(scope="session")
def demo_clip(media_dir: Path) -> Path:
    """The bundled demo clip (10 fps); a generated 10 fps clip until it is in the tree."""
    if DEMO_CLIP.is_file():
        return DEMO_CLIP
    return write_clip(media_dir / "demo-standin.mp4", frames=300)


@pytest.fixture(scope="session")
def numbered_clip(media_dir: Path) -> Path:
    """6 s at 10 fps (60 frames, keyframe every 10) whose frames show their index."""
    return write_clip(media_dir / "numbered.mp4", frames=60)


@pytest.fixture(scope="session")
def still_image(media_dir: Path) -> Path:
    return write_jpeg(media_dir / "still.jpg", index=7)


@pytest.fixture
def http_camera() -> Iterator[HttpCamera]:
    with running_http_camera() as camera:
        yield camera


@pytest.fixture(scope="session")
def rtsp_available() -> None:
    reason = rtsp_server_unavailable()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def rtsp_server(
    rtsp_available: None, demo_clip: Path, tmp_path: Path
) -> Iterator[RtspServerProcess]:
    """A running RTSP camera serving the demo clip on a free port; stopped by PID after."""
    server = RtspServerProcess(demo_clip, log_path=tmp_path / "rtsp-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        print(f"RTSP server stderr:\n{server.log()}")  # shown by pytest if the test failed
