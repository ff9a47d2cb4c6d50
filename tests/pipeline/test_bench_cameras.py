"""`vigil bench cameras`: the real-time run accounts for every frame and every stage, and the
simulated-time mode reports both policies for the cameras asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.media import CLIP
from vigil.bench.cameras import LoadSettings, PacedDetector, deadline_batcher, run_load
from vigil.cli.main import app
from vigil.config import CameraConfig, TrackerConfig
from vigil.pipeline.feeds import SourceFeed, SyntheticFeed, decode_clip
from vigil.sources.base import SourceOptions
from vigil.sources.factory import create_source


def test_real_time_run_accounts_for_frames_and_stages() -> None:
    frames = decode_clip(CLIP, (320, 180), limit=10)
    feeds = [SyntheticFeed(frames, start=i) for i in range(6)]
    settings = LoadSettings(cameras=6, camera_fps=5.0, seconds=2.0, warmup_s=0.5)
    template = CameraConfig(id="bench", url=str(CLIP), modules={"zone": {}})
    result = run_load(
        settings,
        deadline_batcher(64, 20, 1000),
        feeds,
        PacedDetector(1000.0),
        template,
        TrackerConfig(),
    )
    assert result["cameras"] == 6
    assert 0 <= result["cameras_sustained"] <= 6
    assert 0.0 <= result["dropped_share"] <= 1.0
    assert result["analysed_fps"] > 0
    assert set(result["time_share"]) == {"decode", "inference", "tracking", "modules"}
    assert sum(result["time_share"].values()) == pytest.approx(1.0, abs=0.01)
    assert result["lag_p50_s"] <= result["lag_p99_s"] <= result["lag_max_s"]


def test_source_feed_decodes_a_looping_file() -> None:
    feed = SourceFeed(create_source(str(CLIP), SourceOptions(analysis_fps=5.0, loop=True)))
    try:
        first, second = feed.next_image(), feed.next_image()
    finally:
        feed.close()
    assert first.shape == second.shape and first.ndim == 3


def test_simulated_mode_reports_both_policies(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "cameras",
            "--simulate",
            "--cameras",
            "100",
            "--cameras",
            "200",
            "--seconds",
            "5",
            "--warmup",
            "1",
            "--detector-fps",
            "750",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)["runs"]
    assert [run["cameras"] for run in runs] == [100, 200]
    # 100 cameras at 5 fps fit a 750 frames/s detector; 200 do not.
    assert runs[0]["deadline"]["cameras_sustained"] == 100
    assert runs[1]["deadline"]["cameras_sustained"] == 0
    assert runs[1]["deadline"]["analysed_fps"] == pytest.approx(750, rel=0.05)


def test_unknown_detector_kind_is_refused_by_name() -> None:
    result = CliRunner().invoke(app, ["bench", "cameras", "--detector", "yolo9000"])
    assert result.exit_code != 0
    assert "--detector" in result.output
